"""The base revision a preview compares against: resolve it, export its tree, stamp its workflows' commits.

The base tree is exported with `git archive` into a temporary directory, so nothing in the repository changes (no
worktree, no checkout). Only workflows that differ are loaded from it: an unchanged workflow file with an unchanged
function tree is the same Workflow at the base, so the head's copy is reused (loading 1,000 files twice would
dominate a warm preview). Its workflows and stack files are loaded with the *current* loader and built with the
*current* program: the plan then shows what the change to workflows/ and Pulumi.<stack>.yaml does. A change to
infra/ itself shows up as updates only where the current program's output differs; docs/gate.md says why.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from pathlib import Path

from infra.errors import LockstepError


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise LockstepError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout.strip()


class BaseError(LockstepError):
    """The base revision cannot be had: the preview must stop, never compare with nothing."""


def resolve(root: Path, base: str | None) -> str:
    """Return the base commit: `base` as given, else the merge-base of HEAD with main (or origin/main)."""
    if base:
        try:
            return _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        except LockstepError:
            raise BaseError(f"--base {base}: names no commit in {root} — name a branch, tag or commit that exists "
                            "here (in CI, fetch it first: git fetch origin <ref>), or pass --no-base to compare "
                            "with nothing") from None
    for ref in ("main", "origin/main"):
        try:
            return _git(root, "merge-base", "HEAD", ref)
        except LockstepError:
            continue
    raise BaseError(f"no base revision: {root} has neither 'main' nor 'origin/main' (or no history shared with "
                    "them) — fetch main (in CI: actions/checkout with fetch-depth: 0, or git fetch origin main), "
                    "pass --base REV, or pass --no-base to compare with nothing")


def describe(base: str | None) -> str:
    """Say how the base was chosen."""
    return f"--base {base}" if base else "merge-base of HEAD and main"


def export(root: Path, rev: str, parent: Path) -> Path:
    """Extract the tree of `rev` into a new directory under `parent` and return it."""
    dest = Path(tempfile.mkdtemp(prefix=f"base-{rev[:12]}-", dir=parent))
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", rev], capture_output=True,
                             timeout=120)
    if archive.returncode != 0:
        raise LockstepError(f"git archive {rev}: {archive.stderr.decode(errors='replace').strip()}")
    with tempfile.TemporaryFile() as fh:
        fh.write(archive.stdout)
        fh.seek(0)
        with tarfile.open(fileobj=fh) as tar:
            tar.extractall(dest, filter="data")
    return dest


def changed_paths(root: Path, rev: str) -> set[str]:
    """Return every path that differs between `rev` and the working tree, untracked files included."""
    tracked = _git(root, "diff", "--name-only", "--no-renames", rev, "--").splitlines()
    untracked = _git(root, "ls-files", "--others", "--exclude-standard").splitlines()
    return {p for p in (*tracked, *untracked) if p}


def files_at(root: Path, rev: str, folder: str) -> set[str]:
    """Return the workflow files (`*.py`, not `_*.py`) directly in `folder` at `rev`, as the loader finds them."""
    try:
        names = _git(root, "ls-tree", "--name-only", f"{rev}:{folder}").splitlines()
    except LockstepError:
        return set()
    return {f"{folder}/{n}" for n in names if n.endswith(".py") and not n.startswith("_")}


def keep_only(tree: Path, folder: str, keep: set[str]) -> None:
    """Delete the workflow files of an exported tree that are not in `keep` (helpers, `_*.py`, stay)."""
    for path in (tree / folder).glob("*.py"):
        rel = path.relative_to(tree).as_posix()
        if rel not in keep and not path.name.startswith("_"):
            path.unlink()
