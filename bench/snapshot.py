"""Run a benchmark from a snapshot of the code, so edits made while it runs cannot change what it measures."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

SNAPSHOT_ENV = "LOCKSTEP_BENCH_SNAPSHOT"
SOURCE_ENV = "LOCKSTEP_BENCH_SOURCE"  # the repository the snapshot was taken from (its stack files are copied)


def snapshot_and_reexec(script: str) -> None:
    """Re-run `script` from a copy of infra/, policies/ and bench/ (a no-op once running from the copy)."""
    if os.environ.get(SNAPSHOT_ENV):
        return
    here = Path(script).resolve()
    repo = here.parents[1]
    code = Path(tempfile.mkdtemp(prefix="lockstep-bench-code-"))
    for top in ("infra", "policies", "bench"):
        shutil.copytree(repo / top, code / top, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    env = {**os.environ, SNAPSHOT_ENV: "1", "PYTHONPATH": str(code), SOURCE_ENV: str(repo)}
    os.execve(sys.executable, [sys.executable, str(code / "bench" / here.name), *sys.argv[1:]], env)
