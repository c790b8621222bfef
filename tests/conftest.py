"""Shared fixtures: a scratch copy of a repository to edit from the user's side."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Pulumi's policy analyzer re-configures the runtime when these are set; tests must never inherit them.
for _name in ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN", "PULUMI_CONFIG"):
    os.environ.pop(_name, None)
# The preview cache's MAC key lives in the user's cache directory: tests (and the CLIs they start) use their own.
os.environ["LOCKSTEP_CACHE_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="lockstep-test-key-"), "cache.key")


@pytest.fixture
def repo_copy(tmp_path: Path) -> Iterator[Path]:
    """Return a scratch copy of this repository's workflows and stack files."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(REPO / "workflows", root / "workflows", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    yield root
