"""The base revision a preview compares against: resolve it, write the files it needs, stamp its workflows' commits.

The base's files are written into a temporary directory, so nothing in the repository changes (no worktree, no
checkout). Only what the loader reads is written (`materialize`: the workflow files that differ, the helpers and
function trees under workflows/, the stack files), each blob read once through one `git cat-file --batch`; a
whole-tree `git archive` (`export`) is kept for what needs the full tree (rollback builds). Only workflows that
differ are loaded: an unchanged workflow file with an unchanged function tree is the same Workflow at the base, so
the head's copy is reused (loading 1,000 files twice would dominate a warm preview). Its workflows and stack files
are loaded with the *current* loader and built with the *current* program: the plan then shows what the change to
workflows/ and Pulumi.<stack>.yaml does. A change to infra/ itself shows up as updates only where the current
program's output differs; docs/gate.md says why.
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


def materialize(root: Path, rev: str, parent: Path, folder: str, keep: set[str] | None,
                extra: tuple[str, ...] | None = ()) -> Path:
    """Write what the loader reads of `rev` into a new directory under `parent` and return it.

    That is: the stack files (`Pulumi*.yaml`) at the top, everything under `folder` except its workflow files not
    in `keep` (None keeps all), and the directories in `extra` (function trees outside `folder`; None: every other
    file of the tree). Symbolic links and submodules are not written; `export` is the way to the full tree.
    """
    dest = Path(tempfile.mkdtemp(prefix=f"base-{rev[:12]}-", dir=parent))
    wanted = [(mode, oid, path) for mode, oid, path in _tree(root, rev, () if extra is None else (folder, *extra))
              if mode in ("100644", "100755") and _needed(path, folder, keep)]
    top = [] if extra is None else [
        (mode, oid, path) for mode, oid, path in _tree(root, rev, (), recursive=False)
        if mode in ("100644", "100755") and path.startswith("Pulumi") and path.endswith(".yaml")]
    blobs = _blobs(root, [oid for _, oid, _ in (*wanted, *top)])
    for mode, oid, path in (*wanted, *top):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blobs[oid])
        if mode == "100755":
            target.chmod(0o755)
    return dest


def _needed(path: str, folder: str, keep: set[str] | None) -> bool:
    """Tell whether the loader reads this path: a helper, a function file, or a workflow file it keeps."""
    parts = path.split("/")
    is_workflow = len(parts) == 2 and parts[0] == folder and path.endswith(".py") and not parts[1].startswith("_")
    return not is_workflow or keep is None or path in keep


def _tree(root: Path, rev: str, paths: tuple[str, ...], recursive: bool = True) -> list[tuple[str, str, str]]:
    """Return (mode, object id, path) of every entry of `rev` under `paths` (the top level when empty)."""
    args = ["ls-tree", "-z", "--full-tree", *(["-r"] if recursive else []), rev, "--", *paths]
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    if done.returncode != 0:
        raise LockstepError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace').strip() or 'failed'}")
    out = []
    for entry in done.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            mode, _kind, oid = meta.split()
            out.append((mode, oid, path))
    return out


def _blobs(root: Path, oids: list[str]) -> dict[str, bytes]:
    """Read these blobs with one `git cat-file --batch` and return their bytes by object id."""
    unique = list(dict.fromkeys(oids))
    if not unique:
        return {}
    done = subprocess.run(["git", "-C", str(root), "cat-file", "--batch"], input="".join(f"{o}\n" for o in unique)
                          .encode(), capture_output=True, timeout=120)
    if done.returncode != 0:
        raise LockstepError(f"git cat-file --batch: {done.stderr.decode(errors='replace').strip() or 'failed'}")
    out, data, at = {}, done.stdout, 0
    for oid in unique:
        end = data.index(b"\n", at)
        header = data[at:end].decode().split()
        if len(header) != 3 or header[1] != "blob":
            raise LockstepError(f"git cat-file --batch: {oid}: {' '.join(header) or 'no answer'}")
        size = int(header[2])
        out[oid] = data[end + 1:end + 1 + size]
        at = end + 1 + size + 1  # the contents end with one newline of the batch format
    return out


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
