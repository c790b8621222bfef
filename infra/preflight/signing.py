"""Which preview-cache entries this run may trust beyond its own machine: Ed25519 signatures made on `main` only.

A machine's own HMAC key (cache.py) authenticates entries that machine wrote, which is right for a developer's
clone and wrong for CI: code under review runs as the gate's user, so it can read any key the gate can read and MAC
whatever it likes. Signatures split the two powers. Only the job that runs on `main` holds the private key
(`LOCKSTEP_CACHE_SIGNING_KEY`, from a GitHub environment that admits `main` only); every run verifies with public
keys (`LOCKSTEP_CACHE_PUBLIC_KEY`, a repository variable a pull request cannot change). A pull request can read
main's entries, and nothing it writes verifies. `LOCKSTEP_CACHE_TRUST=signed` switches the machine key off.

Keys are the raw 32 bytes of an Ed25519 key in base64; `python -m infra.preflight.signing keygen` makes a pair.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.errors import UsageError

if TYPE_CHECKING:  # `cryptography` is imported only where a key is used: a run without keys never pays for it
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNING_ENV = "LOCKSTEP_CACHE_SIGNING_KEY"
PUBLIC_ENV = "LOCKSTEP_CACHE_PUBLIC_KEY"
TRUST_ENV = "LOCKSTEP_CACHE_TRUST"
MODES = ("machine", "signed")


class TrustError(UsageError):
    """A cache trust setting that cannot be used (the message names the variable and what to do)."""


@dataclass(frozen=True)
class Trust:
    """What this run trusts on disk (the machine's MAC key, signatures under `public`) and what it signs with."""

    machine: bool = True
    public: tuple[Ed25519PublicKey, ...] = ()
    signer: Ed25519PrivateKey | None = None

    def sign(self, message: bytes) -> str:
        """Return the base64 signature of a message ('' when this run holds no signing key)."""
        return base64.b64encode(self.signer.sign(message)).decode() if self.signer else ""

    def verified(self, message: bytes, signature: object) -> bool:
        """Tell whether signature is a valid signature of message under one of the trusted public keys."""
        if not self.public or not isinstance(signature, str) or not signature:
            return False
        from cryptography.exceptions import InvalidSignature

        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        for key in self.public:
            try:
                key.verify(raw, message)
                return True
            except InvalidSignature:
                continue
        return False


@functools.cache
def from_env() -> Trust:
    """Read the trust settings once per process, and take the signing key out of the environment.

    Child processes (workflow files, the program under review) inherit the environment; once read, the private key
    is only in this process's memory.
    """
    mode = os.environ.get(TRUST_ENV, "machine") or "machine"
    if mode not in MODES:
        raise TrustError(f"{TRUST_ENV}={mode!r}: not a trust mode — use one of {', '.join(MODES)}")
    secret = os.environ.pop(SIGNING_ENV, "")
    signer = _private(secret) if secret.strip() else None
    public = [_public(v) for v in os.environ.get(PUBLIC_ENV, "").replace(",", " ").split()]
    if signer is not None:
        public.append(signer.public_key())
    return Trust(machine=mode == "machine", public=tuple(public), signer=signer)


def _private(text: str) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise TrustError(f"{SIGNING_ENV}: not a base64 Ed25519 private key (32 raw bytes; the value is not shown) — "
                        "make one with `python -m infra.preflight.signing keygen`") from None


def _public(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise TrustError(f"{PUBLIC_ENV}: {text[:16]!r}… is not a base64 Ed25519 public key (32 raw bytes) — use "
                        "the public half printed by `python -m infra.preflight.signing keygen`") from None


def keygen() -> tuple[str, str]:
    """Return a new (private, public) key pair as base64 of their raw bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = serialization.Encoding.Raw
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def main(argv: Sequence[str] | None = None) -> int:
    """`keygen`: print a new pair, the private key for the main-only secret and the public one for the variable."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["keygen"]:
        print("usage: python -m infra.preflight.signing keygen", file=sys.stderr)
        return 2
    private, public = keygen()
    print(f"{SIGNING_ENV}={private}  # secret of the main-only environment; never in git\n{PUBLIC_ENV}={public}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
