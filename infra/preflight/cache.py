"""A per-workflow cache of evaluated slices, keyed by spec digest, commit stamp, stack and the code's own hash.

Any change to infra/ or policies/ (or to the pinned Pulumi packages) changes `code_hash`, and with it every key, so
a cached verdict can never outlive the program or the rules that produced it.

The cache directory sits under the repository, where a pull request can commit files. So an entry is data only
(JSON: no pickle, nothing that runs on read), and is trusted only if its sha256 matches its body and its HMAC
matches a key this machine made and keeps outside every repository (`cache_key_path`). A planted, forged or
corrupted entry is a miss, counted in `rejected`, and the slice is evaluated again.

Beyond one machine (CI restoring main's cache), an entry is trusted by its Ed25519 signature instead (signing.py):
only runs on `main` can sign, so nothing a pull request writes is ever trusted, by main, by another pull request, or
by the pull request's own later passes. Where the cache lives: `--cache-dir`, else `$LOCKSTEP_CACHE_DIR`, else
`.lockstep/cache` under the repository (`directory`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import importlib.metadata
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from infra.preflight import signing
from infra.preflight.analyze import Diagnostic
from infra.preflight.evaluate import Slice
from infra.preflight.plan import Resource

PACKAGES = ("pulumi", "pulumi-policy", "pulumi-aws", "pulumi-azure-native", "pulumi-gcp", "protobuf")
CODE_DIRS = ("infra", "policies")
FORMAT = "lockstep-preview-cache/3"
DIR_ENV = "LOCKSTEP_CACHE_DIR"


def directory(root: Path, flag: Path | None = None) -> Path:
    """Return where the preview cache lives: --cache-dir, else $LOCKSTEP_CACHE_DIR, else <repo>/.lockstep/cache."""
    if flag is not None:
        return flag
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV]).expanduser()
    return root / ".lockstep" / "cache"


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


def cache_key_path() -> Path:
    """Return where this machine's cache MAC key lives: the user's cache directory, never a repository."""
    if os.environ.get("LOCKSTEP_CACHE_KEY_FILE"):
        return Path(os.environ["LOCKSTEP_CACHE_KEY_FILE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lockstep" / "preview-cache.key"


def _mac_key() -> bytes | None:
    """Return this user's MAC key, creating it (mode 0600) on first use; None if it cannot be had."""
    path = cache_key_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text.encode() if len(text) >= 32 else None


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


class Cache:
    """Verified JSON slices on disk, one file per key; a missing, unreadable or unverified file is a miss."""

    def __init__(self, directory: Path | None, trust: signing.Trust | None = None) -> None:
        self.trust = signing.from_env() if trust is None else trust
        self.secret = _mac_key() if directory is not None and self.trust.machine else None
        # No key that can verify anything: no disk cache, since nothing read from it could be trusted.
        self.directory = directory if self.secret or self.trust.public else None
        self.writable = self.secret is not None or self.trust.signer is not None  # else entries would never verify
        self.hits = 0
        self.misses = 0
        self.rejected = 0  # entries present but not verified: planted, forged, corrupted or from another machine
        self._memo: dict[str, Slice] = {}  # head and base share most keys: read each file once per run

    def restart(self) -> Cache:
        """Start counting hits, misses and rejections afresh (a long-lived process reuses one cache)."""
        self.hits = self.misses = self.rejected = 0
        return self

    def _mac(self, k: str, digest: str) -> str:
        assert self.secret is not None
        return hmac.new(self.secret, _signed(k, digest), hashlib.sha256).hexdigest()

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

    def _verified(self, k: str) -> Any | None:
        """Return the body of an entry whose digest and MAC or signature verify; None (and count it) otherwise."""
        assert self.directory is not None
        path = self.directory / f"{k}.json"
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            entry = json.loads(raw)
            body = entry["body"].encode()
            digest = hashlib.sha256(body).hexdigest()
            ok = entry["format"] == FORMAT and entry["key"] == k and hmac.compare_digest(entry["sha256"], digest) \
                and self._authentic(entry, k, digest)
            if ok:
                data = json.loads(body)
                with contextlib.suppress(OSError):  # marks the entry used: whoever saves the cache keeps only these
                    os.utime(path)
                return data
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            pass
        self.rejected += 1
        return None

    def get_data(self, k: str) -> Any | None:
        """Return other JSON data stored under a key (e.g. the loader's memo), verified like a slice, or None."""
        return self._verified(k) if self.directory is not None else None

    def put_data(self, k: str, data: Any) -> None:
        """Store other JSON data under a key, with its digest, MAC and signature."""
        if self.directory is not None and self.writable:
            self._write(k, json.dumps(data, separators=(",", ":")))

    def _authentic(self, entry: dict[str, Any], k: str, digest: str) -> bool:
        """Tell whether this machine's MAC, or a signature from main, vouches for the entry."""
        mac = entry.get("mac")
        if self.secret is not None and isinstance(mac, str) and hmac.compare_digest(mac, self._mac(k, digest)):
            return True
        return self.trust.verified(_signed(k, digest), entry.get("sig"))

    def put(self, k: str, value: Slice) -> None:
        """Store a slice atomically (write a temp file, then rename), with its digest, MAC and signature."""
        self._memo[k] = value
        if self.directory is None or not self.writable:
            return
        self._write(k, json.dumps(slice_to_data(value), separators=(",", ":")))

    def _write(self, k: str, body: str) -> None:
        assert self.directory is not None
        digest = hashlib.sha256(body.encode()).hexdigest()
        entry = {"format": FORMAT, "key": k, "sha256": digest, "mac": self._mac(k, digest) if self.secret else "",
                 "sig": self.trust.sign(_signed(k, digest)), "body": body}
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh)
        os.replace(tmp, self.directory / f"{k}.json")


def _signed(k: str, digest: str) -> bytes:
    """Return what a MAC or a signature covers: the format, the key (so an entry cannot move) and the body's hash."""
    return f"{FORMAT}\0{k}\0{digest}".encode()


if __name__ == "__main__":  # `python -m infra.preflight.cache`: the code hash, for CI's cache key
    print(code_hash(Path(__file__).resolve().parents[2]))
