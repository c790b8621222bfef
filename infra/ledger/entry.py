"""One ledger entry: an in-toto Statement (subject: the release commit and spec digests) with a sequence number,
the previous entry's hash, stack, epoch, kind and evidence, serialised as canonical JSON.

Causal order is `seq` and `prev` (the chain), never the `at` field: `at` is the writer's wall clock, kept for people
reading the ledger and for lease expiry, and nothing else compares it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATEMENT = "https://in-toto.io/Statement/v1"
PREDICATE = "https://lockstep.dev/ledger-entry/v1"
KINDS = ("gate", "lease", "intent", "applied", "verified", "rollback", "resume", "bad-release", "break-glass",
         "drift", "adopt")
GENESIS = "0" * 64
# Secret-shaped strings an entry must never carry: key material, credentials in URLs, tokens.
_SECRET = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY|://[^/\s:@]+:[^/\s@]+@|\bgh[pousr]_[A-Za-z0-9]{20,}|"
                     r"\bAKIA[0-9A-Z]{16}\b|hooks\.slack\.com/services/")


class EntryError(ValueError):
    """An entry cannot be written or read (unknown kind, secret-shaped value, broken document)."""


@dataclass(frozen=True)
class Entry:
    """One ledger entry as written: position in the chain plus what happened, to which release, with what proof."""

    seq: int
    prev: str
    stack: str
    epoch: int
    kind: str
    holder: str
    commit: str = ""
    digests: Mapping[str, str] = field(default_factory=dict)  # workflow -> spec digest
    evidence: Mapping[str, Any] = field(default_factory=dict)
    at: str = ""

    def statement(self) -> dict[str, Any]:
        """Return the in-toto Statement this entry is."""
        subject = [{"name": f"git:{self.commit}", "digest": {"gitCommit": self.commit}}] if self.commit else []
        subject += [{"name": f"workflow:{name}", "digest": {"lockstepSpec": d}}
                    for name, d in sorted(self.digests.items())]
        return {"_type": STATEMENT, "subject": subject, "predicateType": PREDICATE,
                "predicate": {"seq": self.seq, "prev": self.prev, "stack": self.stack, "epoch": self.epoch,
                              "kind": self.kind, "holder": self.holder, "at": self.at,
                              "evidence": dict(self.evidence)}}

    def canonical(self) -> bytes:
        """Return the canonical JSON bytes (sorted keys, no spaces): what is hashed, committed and signed."""
        return canonical_json(self.statement())

    def digest(self) -> str:
        """Return the sha256 of the canonical bytes: the next entry's `prev`."""
        return hashlib.sha256(self.canonical()).hexdigest()

    @property
    def time(self) -> dt.datetime | None:
        """Return `at` as a datetime (the writer's clock), or None."""
        return dt.datetime.fromisoformat(self.at) if self.at else None


def canonical_json(value: object) -> bytes:
    """Return canonical JSON: sorted keys, compact separators, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def now() -> str:
    """Return the wall-clock time an entry records (UTC, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check(entry: Entry) -> None:
    """Refuse an entry of an unknown kind or one that carries a secret-shaped value anywhere."""
    if entry.kind not in KINDS:
        raise EntryError(f"unknown ledger entry kind {entry.kind!r}; one of {', '.join(KINDS)}")
    text = entry.canonical().decode()
    if _SECRET.search(text):
        raise EntryError(f"a {entry.kind} entry for stack {entry.stack!r} carries a secret-shaped value; the "
                         "ledger never holds secrets: record a reference or a digest instead")


def parse(raw: bytes) -> Entry:
    """Read an entry back from its canonical JSON (raises EntryError when it is not one)."""
    try:
        doc = json.loads(raw)
        p = doc["predicate"]
        commit = next((s["digest"]["gitCommit"] for s in doc["subject"] if "gitCommit" in s["digest"]), "")
        digests = {s["name"].removeprefix("workflow:"): s["digest"]["lockstepSpec"] for s in doc["subject"]
                   if "lockstepSpec" in s["digest"]}
        entry = Entry(int(p["seq"]), str(p["prev"]), str(p["stack"]), int(p["epoch"]), str(p["kind"]),
                      str(p["holder"]), commit, digests, p.get("evidence") or {}, str(p.get("at") or ""))
    except (ValueError, KeyError, TypeError, StopIteration) as exc:
        raise EntryError(f"not a ledger entry ({type(exc).__name__}: {exc})") from exc
    if doc.get("_type") != STATEMENT or doc.get("predicateType") != PREDICATE or entry.canonical() != raw:
        raise EntryError(f"entry {entry.seq} is not in canonical form (edited by hand?)")
    return entry
