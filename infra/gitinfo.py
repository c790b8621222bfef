"""Which git commit a workflow's deployed resources are stamped with."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from infra.model import Workflow

UNCOMMITTED = "uncommitted"


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def workflow_paths(wf: Workflow) -> tuple[str, str]:
    """Return the repo-relative paths that define a workflow: its file and its function's source directory."""
    return wf.location.path, wf.function.source


def commit_of(root: Path) -> Callable[[Workflow], str]:
    """Return a function giving, per workflow, the last commit that changed it, or 'uncommitted'.

    The last commit that touched the workflow (not HEAD) keeps stamps stable across unrelated merges, so a
    preview shows an update only on the workflows a change really touches.
    """
    def of(wf: Workflow) -> str:
        paths = workflow_paths(wf)
        if _git(root, "rev-parse", "--is-inside-work-tree") != "true":
            return UNCOMMITTED
        if _git(root, "status", "--porcelain", "--", *paths):
            return UNCOMMITTED
        return _git(root, "log", "-1", "--format=%H", "--", *paths) or UNCOMMITTED
    return of
