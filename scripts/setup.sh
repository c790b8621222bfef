#!/usr/bin/env bash
# Create .venv and install Lockstep with the exact versions in requirements.lock. Idempotent and quiet when current.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
stamp=.venv/.lockstep-installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
echo "setup: installing Python packages into .venv (about a minute on a fresh machine)" >&2
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-cache-dir -c requirements.lock -e '.[dev]' 2>&1 \
  | grep -v -e "is ignored: it is neither a file nor a directory" >&2 || true
.venv/bin/python -c "import infra, pulumi, pulumi_policy" # fail loudly if the install did not complete
echo "$want" > "$stamp"
