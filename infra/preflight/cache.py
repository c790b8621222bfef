"""A per-workflow cache of evaluated slices, keyed by spec digest, commit stamp, stack and the code's own hash.

Any change to infra/ or policies/ (or to the pinned Pulumi packages) changes `code_hash`, and with it every key, so
a cached verdict can never outlive the program or the rules that produced it.

The cache directory sits under the repository, where a pull request can commit files. So an entry is data only
(JSON: no pickle, nothing that runs on read), and is trusted only if its sha256 matches its body and its HMAC
matches a key this machine made and keeps outside every repository (`cache_key_path`); infra/entrystore.py keeps
the entries. A planted, forged or corrupted entry is a miss, counted in `rejected`, and the slice is evaluated again.

Beyond one machine (CI restoring main's cache), an entry is trusted by its Ed25519 signature instead (signing.py):
only runs on `main` can sign, so nothing a pull request writes is ever trusted, by main, by another pull request, or
by the pull request's own later passes. Where the cache lives: `--cache-dir`, else `$LOCKSTEP_CACHE_DIR`, else
`.lockstep/cache` under the repository (`directory`).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from infra.entrystore import DIR_ENV, FORMAT, EntryStore, Trust, cache_key_path, directory
from infra.preflight import signing
from infra.preflight.analyze import Diagnostic
from infra.preflight.evaluate import Slice
from infra.preflight.plan import Resource

__all__ = ["DIR_ENV", "FORMAT", "Cache", "cache_key_path", "code_hash", "directory", "key"]
PACKAGES = ("pulumi", "pulumi-policy", "pulumi-aws", "pulumi-azure-native", "pulumi-gcp", "protobuf")
CODE_DIRS = ("infra", "policies")


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


def slice_to_data(value: Slice) -> dict[str, Any]:
    """Return a slice as JSON-ready data."""
    return {"workflow": value.workflow, "resources": [list(r) for r in value.resources],
            "projected": base64.b64encode(value.projected).decode(), "notes": list(value.notes),
            "diagnostics": [[d.policy, d.level, d.urn, d.message, d.blocking] for d in value.diagnostics]}


def slice_from_data(data: dict[str, Any]) -> Slice:
    """Rebuild a slice from `slice_to_data`'s output; raise on any malformed part."""
    resources = tuple(_resource(r) for r in data["resources"])
    diags = tuple(Diagnostic(str(p), str(lv), str(u), str(m), bool(b)) for p, lv, u, m, b in data["diagnostics"])
    return Slice(str(data["workflow"]), resources, base64.b64decode(data["projected"], validate=True), diags,
                 tuple(str(n) for n in data["notes"]))


_FLAGS = tuple(i for i, name in enumerate(Resource._fields) if name in ("custom", "stamped"))


def _resource(r: list[Any]) -> Resource:
    """Return one Resource from JSON with its declared types (every field is str, but two flags)."""
    if len(r) != len(Resource._fields):
        raise ValueError(f"a resource has {len(r)} fields, not {len(Resource._fields)}")
    fields: list[Any] = [v if type(v) is str else str(v) for v in r]
    for i in _FLAGS:
        fields[i] = bool(r[i])
    return Resource._make(fields)


class Cache(EntryStore):
    """Verified JSON slices on disk, one file per key; a missing, unreadable or unverified file is a miss."""

    def __init__(self, directory: Path | None, trust: Trust | None = None) -> None:
        super().__init__(directory, signing.from_env() if trust is None else trust)
        self.hits = 0
        self.misses = 0
        self._memo: dict[str, Slice] = {}  # head and base share most keys: read each file once per run

    def restart(self) -> Cache:
        """Start counting hits, misses and rejections afresh (a long-lived process reuses one cache)."""
        self.hits = self.misses = self.rejected = 0
        return self

    def get(self, k: str) -> Slice | None:
        """Return the cached slice for a key, or None."""
        if k in self._memo:
            self.hits += 1
            return self._memo[k]
        value = self._read(k) if self.directory is not None else None
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._memo[k] = value
        return value

    def _read(self, k: str) -> Slice | None:
        try:
            data = self._verified(k)
            return slice_from_data(data) if data is not None else None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            self.rejected += 1
            return None

    def put(self, k: str, value: Slice) -> None:
        """Store a slice atomically (write a temp file, then rename), with its digest, MAC and signature."""
        self._memo[k] = value
        if self.directory is None or not self.writable:
            return
        self._write(k, json.dumps(slice_to_data(value), separators=(",", ":")))


if __name__ == "__main__":  # `python -m infra.preflight.cache`: the code hash, for CI's cache key
    print(code_hash(Path(__file__).resolve().parents[2]))
