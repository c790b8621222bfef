"""The on-prem target's machinery: an SSH dynamic provider, the host runner, crontab and systemd rendering."""
