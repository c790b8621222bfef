"""A per-workflow cache of evaluated slices, keyed by spec digest, commit stamp, stack and the code's own hash.

Any change to infra/ or policies/ (or to the pinned Pulumi packages) changes `code_hash`, and with it every key, so
a cached verdict can never outlive the program or the rules that produced it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

PACKAGES = ("pulumi", "pulumi-policy", "pulumi-aws", "pulumi-azure-native", "pulumi-gcp", "protobuf")
CODE_DIRS = ("infra", "policies")
FORMAT = "lockstep-preview-cache/2"


def code_hash(code_root: Path) -> str:
    """Return the sha256 of every .py file under infra/ and policies/ of the code that runs, and package versions."""
    outer = hashlib.sha256(FORMAT.encode())
    for top in CODE_DIRS:
        for path in sorted((code_root / top).rglob("*.py")):
            if "__pycache__" in path.parts or "venv" in path.relative_to(code_root).parts[:2]:
                continue
            rel = path.relative_to(code_root).as_posix()
            outer.update(f"{rel}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    for name in PACKAGES:
        try:
            outer.update(f"{name}=={importlib.metadata.version(name)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            outer.update(f"{name}==absent\n".encode())
    return outer.hexdigest()


def key(*parts: str) -> str:
    """Return a cache key from its parts."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class Cache:
    """Pickled slices on disk, one file per key; a missing or unreadable file is a miss."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._memo: dict[str, Any] = {}  # head and base share most keys: read each file once per run

    def get(self, k: str) -> Any:
        """Return the cached value for a key, or None."""
        if k in self._memo:
            self.hits += 1
            return self._memo[k]
        if self.directory is None:
            self.misses += 1
            return None
        try:
            with (self.directory / f"{k}.pickle").open("rb") as fh:
                value = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            self.misses += 1
            return None
        self.hits += 1
        self._memo[k] = value
        return value

    def put(self, k: str, value: Any) -> None:
        """Store a value atomically (write a temp file, then rename)."""
        self._memo[k] = value
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.directory / f"{k}.pickle")
