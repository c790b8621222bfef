#!/usr/bin/env bash
# System packages the tests use: sshd and cron (on-prem target), systemd-analyze (OnCalendar oracle).
# Installs from Debian's packages only when running as root and something is missing; otherwise says what is missing.
set -euo pipefail
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v cron >/dev/null 2>&1 || [ -x /usr/sbin/cron ] || need+=(cron)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: apt-get install ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "install-test-deps: missing ${need[*]} (not root, or no apt-get): the tests that need them will say so" >&2
fi
