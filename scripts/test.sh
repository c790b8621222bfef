#!/usr/bin/env bash
# Set up everything the tests need, then run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/install-test-deps.sh
echo "== ruff" && .venv/bin/ruff check infra policies tests bench
echo "== mypy --strict" && .venv/bin/mypy --strict infra policies
echo "== import contracts" && .venv/bin/lint-imports --no-cache
echo "== pytest" && .venv/bin/pytest -q "$@"
