"""Which git commit a workflow's deployed resources are stamped with."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from infra.model import Workflow

UNCOMMITTED = "uncommitted"


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def workflow_paths(wf: Workflow) -> tuple[str, str]:
    """Return the repo-relative paths that define a workflow: its file and its function's source directory."""
    return wf.location.path, wf.function.source


def commits(root: Path, workflows: Sequence[Workflow], rev: str = "HEAD",
            dirty_check: bool = True) -> Callable[[Workflow], str]:
    """Return, per workflow, the last commit up to `rev` that changed it, or 'uncommitted'; two git calls in all.

    The last commit that touched the workflow (not HEAD) keeps stamps stable across unrelated merges, so a preview
    shows an update only on the workflows a change really touches. With dirty_check, local changes to a workflow's
    file or function source make it 'uncommitted'.
    """
    paths = {wf.name: workflow_paths(wf) for wf in workflows}
    found: dict[str, str] = {}
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.strip() != "true":
        return lambda wf: UNCOMMITTED
    index: dict[str, list[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for name, (file, src) in paths.items():
        index.setdefault(file, []).append(name)
        prefixes.setdefault(src.rstrip("/") + "/", []).append(name)
    if dirty_check:
        for line in (_git(root, "status", "--porcelain", "--untracked-files=all") or "").splitlines():
            for path in line[3:].split(" -> "):
                for name in _match(path.strip('"'), index, prefixes):
                    found[name] = UNCOMMITTED
    log = _git(root, "log", "--format=commit %H", "--name-only", rev, "--") or ""
    commit = ""
    for line in log.splitlines():
        if line.startswith("commit "):
            commit = line[7:]
            if len(found) == len(paths):
                break
        elif line:
            for name in _match(line, index, prefixes):
                found.setdefault(name, commit)
    return lambda wf: found.get(wf.name, UNCOMMITTED)


def _match(path: str, index: dict[str, list[str]], prefixes: dict[str, list[str]]) -> list[str]:
    out = list(index.get(path, ()))
    parts = path.rstrip("/").split("/")
    for i in range(1, len(parts) + 1):
        out.extend(prefixes.get("/".join(parts[:i]) + "/", ()))
    return out
