#!/usr/bin/env bash
# System packages the tests use: sshd and cron (the on-prem target, required), systemd-analyze (the OnCalendar
# oracle, optional: its cross-check tests skip without it), and Chromium (the audit report's headless-browser test,
# optional: it skips without it). Installs from Debian's packages only when running as
# root and something is missing; otherwise says what is missing.
set -euo pipefail
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v cron >/dev/null 2>&1 || [ -x /usr/sbin/cron ] || need+=(cron)
want_systemd=0
command -v systemd-analyze >/dev/null 2>&1 || want_systemd=1
want_chromium=0
command -v chromium >/dev/null 2>&1 || want_chromium=1
[ ${#need[@]} -eq 0 ] && [ $want_systemd = 0 ] && [ $want_chromium = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${need[*]} $([ $want_systemd = 1 ] && echo systemd)" \
       "$([ $want_chromium = 1 ] && echo chromium) (not root, or no apt-get):" \
       "the tests that need them will say so" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${need[*]}" >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ $want_systemd = 1 ]; then
  echo "install-test-deps: apt-get install systemd (for systemd-analyze only; systemd does not run here)" >&2
  apt-get install -y -qq --no-install-recommends systemd >/dev/null \
    || echo "install-test-deps: systemd did not install; the systemd-analyze cross-checks will skip" >&2
fi
if [ $want_chromium = 1 ]; then
  echo "install-test-deps: apt-get install chromium (the audit report's headless-browser test)" >&2
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null \
    || echo "install-test-deps: chromium did not install; the audit report's browser test will skip" >&2
fi
