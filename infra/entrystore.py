"""Verified JSON entries on disk, one file per key: what the preview cache and the loader's memo persist in.

The directory sits under the repository by default, where a pull request can commit files. So an entry is data only
(JSON: no pickle, nothing that runs on read), and is trusted only if its sha256 matches its body and either its HMAC
matches a key this machine made and keeps outside every repository (`cache_key_path`), or its signature verifies
under a trusted public key (`Trust`, infra/preflight/signing.py). A planted, forged or corrupted entry is not
returned, and counted in `rejected`. Where it lives: `--cache-dir`, else `$LOCKSTEP_CACHE_DIR`, else
`.lockstep/cache` under the repository (`directory`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Protocol

FORMAT = "lockstep-preview-cache/3"
DIR_ENV = "LOCKSTEP_CACHE_DIR"


class Trust(Protocol):
    """What a run trusts on disk besides its machine's MAC key, and what it signs with."""

    @property
    def machine(self) -> bool:
        """Whether this machine's MAC key is trusted (and used to write)."""

    @property
    def public(self) -> tuple[object, ...]:
        """The public keys whose signatures are trusted."""

    @property
    def signer(self) -> object | None:
        """The private key this run signs with, if any."""

    def sign(self, message: bytes) -> str:
        """Return a signature of message ('' without a signing key)."""

    def verified(self, message: bytes, signature: object) -> bool:
        """Tell whether signature is a trusted signature of message."""


def directory(root: Path, flag: Path | None = None) -> Path:
    """Return where the entries live: --cache-dir, else $LOCKSTEP_CACHE_DIR, else <repo>/.lockstep/cache."""
    if flag is not None:
        return flag
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV]).expanduser()
    return root / ".lockstep" / "cache"


def cache_key_path() -> Path:
    """Return where this machine's MAC key lives: the user's cache directory, never a repository."""
    if os.environ.get("LOCKSTEP_CACHE_KEY_FILE"):
        return Path(os.environ["LOCKSTEP_CACHE_KEY_FILE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lockstep" / "preview-cache.key"


def mac_key() -> bytes | None:
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


class EntryStore:
    """JSON entries on disk, each with its digest, MAC and signature; a missing or unverified entry is None."""

    def __init__(self, directory: Path | None, trust: Trust) -> None:
        self.trust = trust
        self.secret = mac_key() if directory is not None and trust.machine else None
        # No key that can verify anything: no store, since nothing read from it could be trusted.
        self.directory = directory if self.secret or trust.public else None
        self.writable = self.secret is not None or trust.signer is not None  # else entries would never verify
        self.rejected = 0  # entries present but not verified: planted, forged, corrupted or from another machine

    def get_data(self, k: str) -> Any | None:
        """Return the JSON data stored under a key, verified, or None."""
        return self._verified(k) if self.directory is not None else None

    def put_data(self, k: str, data: Any) -> None:
        """Store JSON data under a key, if this store can (one that cannot be written is only slower next time)."""
        if self.directory is not None and self.writable:
            with contextlib.suppress(OSError):
                self._write(k, json.dumps(data, separators=(",", ":")))

    def _mac(self, k: str, digest: str) -> str:
        assert self.secret is not None
        return hmac.new(self.secret, signed(k, digest), hashlib.sha256).hexdigest()

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

    def _authentic(self, entry: dict[str, Any], k: str, digest: str) -> bool:
        """Tell whether this machine's MAC, or a trusted signature, vouches for the entry."""
        mac = entry.get("mac")
        if self.secret is not None and isinstance(mac, str) and hmac.compare_digest(mac, self._mac(k, digest)):
            return True
        return self.trust.verified(signed(k, digest), entry.get("sig"))

    def _write(self, k: str, body: str) -> None:
        """Write an entry atomically (a temp file, then rename), with its digest, MAC and signature."""
        assert self.directory is not None
        digest = hashlib.sha256(body.encode()).hexdigest()
        entry = {"format": FORMAT, "key": k, "sha256": digest, "mac": self._mac(k, digest) if self.secret else "",
                 "sig": self.trust.sign(signed(k, digest)), "body": body}
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh)
            os.replace(tmp, self.directory / f"{k}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def signed(k: str, digest: str) -> bytes:
    """Return what a MAC or a signature covers: the format, the key (so an entry cannot move) and the body's hash."""
    return f"{FORMAT}\0{k}\0{digest}".encode()
