"""Write git objects (blob, tree, commit) straight into a repository's object store: one append, no subprocess.

These are git's own loose-object format (zlib of "<type> <size>\\0<body>", named by its SHA-1); `git fsck` and every
git client read them. Signed commits still go through `git commit-tree -S`.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from collections.abc import Mapping
from pathlib import Path


def write(repo: Path, kind: str, body: bytes) -> str:
    """Store one object in the bare repository at `repo` and return its id."""
    data = f"{kind} {len(body)}\0".encode() + body
    sha = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    path = repo / "objects" / sha[:2] / sha[2:]
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        tmp = path.parent / f".tmp-{os.getpid()}-{sha[2:]}"
        tmp.write_bytes(zlib.compress(data))
        tmp.replace(path)
    return sha


def exists(repo: Path, sha: str) -> bool:
    """Tell whether the object is stored loose in the repository (fetched packs are found by git itself)."""
    return (repo / "objects" / sha[:2] / sha[2:]).exists()


def tree(files: Mapping[str, str]) -> bytes:
    """Return the body of a flat tree of regular files (name -> blob id), in git's order."""
    return b"".join(f"100644 {name}\0".encode() + bytes.fromhex(sha) for name, sha in sorted(files.items()))


def commit(tree_id: str, parent: str | None, identity: Mapping[str, str], message: str) -> bytes:
    """Return the body of a commit with one parent (or none), authored and committed now by `identity`."""
    stamp = f"{int(time.time())} +0000"
    lines = [f"tree {tree_id}", *([f"parent {parent}"] if parent else []),
             f"author {identity['GIT_AUTHOR_NAME']} <{identity['GIT_AUTHOR_EMAIL']}> {stamp}",
             f"committer {identity['GIT_COMMITTER_NAME']} <{identity['GIT_COMMITTER_EMAIL']}> {stamp}", "", message]
    return "\n".join(lines).encode()
