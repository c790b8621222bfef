"""One policy per module; pack.py lists them explicitly (no globbing, no import-time registration)."""
