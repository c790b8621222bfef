"""Which git commit a workflow's deployed resources are stamped with. A failing git call raises, never guesses."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from infra.errors import LockstepError
from infra.model import Workflow

UNCOMMITTED = "uncommitted"
GIT_TIMEOUT_S = 120


class GitError(LockstepError):
    """A git command failed; the message names the command, the repository and git's own words."""


def git(root: Path, *args: str) -> str:
    """Return the output of `git -C root ARGS`, or raise GitError naming the command and git's error."""
    command = f"git {' '.join(args)}"
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"{command} in {root} could not run ({exc}); install git, or check the repository") from exc
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise GitError(f"{command} in {root} failed: {said}")
    return done.stdout


def is_work_tree(root: Path) -> bool:
    """Tell whether root is inside a git work tree (a plain directory is not an error: nothing is committed)."""
    try:
        return git(root, "rev-parse", "--is-inside-work-tree").strip() == "true"
    except GitError as exc:
        if "not a git repository" in str(exc):
            return False
        raise


def changed_paths(root: Path) -> set[str] | None:
    """Return the repo-relative paths with uncommitted changes (untracked included), or None outside git."""
    if not is_work_tree(root):
        return None
    status = git(root, "status", "--porcelain", "--untracked-files=all", "--", ".")
    prefix = git(root, "rev-parse", "--show-prefix").strip()
    return {p.strip('"').removeprefix(prefix) for line in status.splitlines() for p in line[3:].split(" -> ")}


def changed_since_main(root: Path) -> set[str]:
    """Return the repo-relative paths committed on this branch since its merge-base with main (empty without one)."""
    try:
        base = git(root, "merge-base", "HEAD", "main").strip()
        changed = git(root, "diff", "--name-only", base, "HEAD", "--", ".")
        prefix = git(root, "rev-parse", "--show-prefix").strip()
    except GitError:  # no main, or no commit yet: only the uncommitted changes are new
        return set()
    return {p.removeprefix(prefix) for p in changed.splitlines() if p}


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
    if not is_work_tree(root):
        return lambda wf: UNCOMMITTED
    index: dict[str, list[str]] = {}
    prefixes: dict[str, list[str]] = {}
    for name, (file, src) in paths.items():
        index.setdefault(file, []).append(name)
        prefixes.setdefault(src.rstrip("/") + "/", []).append(name)
    if dirty_check:
        for line in git(root, "status", "--porcelain", "--untracked-files=all").splitlines():
            for path in line[3:].split(" -> "):
                for name in _match(path.strip('"'), index, prefixes):
                    found[name] = UNCOMMITTED
    log = _log(root, rev)
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


def _log(root: Path, rev: str) -> str:
    """Return the history up to rev with changed paths; a repository with no commit yet has none."""
    if rev == "HEAD" and not git(root, "rev-list", "-n", "1", "--all").strip():
        return ""
    return git(root, "log", "--format=commit %H", "--name-only", rev, "--")


def _match(path: str, index: dict[str, list[str]], prefixes: dict[str, list[str]]) -> list[str]:
    out = list(index.get(path, ()))
    parts = path.rstrip("/").split("/")
    for i in range(1, len(parts) + 1):
        out.extend(prefixes.get("/".join(parts[:i]) + "/", ()))
    return out
