"""Check the ledger branch as a chain: one commit per entry, each adding exactly the next file, in canonical form,
linked to its predecessor by hash, signed by a key of the auditor's trust root, never earlier than what precedes it,
and extending every checkpoint the auditor holds.

Every problem is reported, not just the first: after a break the check goes on comparing each entry with the entry
actually before it, so one dropped entry is one finding, not a cascade.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from infra.audit.findings import Finding
from infra.audit.source import LedgerCommit, LedgerCopy
from infra.ledger.entry import GENESIS, Entry, EntryError, parse

SKEW = dt.timedelta(minutes=5)  # how far one writer's clock may trail the previous writer's before it is backdating
_FILE = re.compile(r"^(\d{8})\.json$")
_HEX = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Chain:
    """The entries that could be read, in chain order, with the commit holding each, and what is wrong."""

    entries: tuple[Entry, ...]
    commits: dict[int, str]       # seq -> ledger commit
    digests: dict[str, int]       # entry digest -> seq (what a checkpoint names)
    findings: tuple[Finding, ...]


def check(copy: LedgerCopy) -> Chain:
    """Return the readable entries of the ledger copy and every chain, form and signature problem."""
    findings: list[Finding] = []
    entries: list[Entry] = []
    commits: dict[int, str] = {}
    prev_raw: bytes | None = None
    prev: Entry | None = None
    renamed = False
    for position, commit in enumerate(copy.commits, start=1):
        findings += _shape(commit, position)
        added = [c for c in commit.changes if c.status == "A" and _FILE.match(c.path)]
        if not added:
            continue
        raw = copy.blobs.get(added[0].blob, b"")
        try:
            entry = parse(raw)
        except EntryError as exc:
            findings.append(Finding("chain", f"{added[0].path} in ledger commit {commit.sha[:12]} is not a ledger "
                                    f"entry in canonical form ({exc}): it was edited outside Lockstep", position))
            prev_raw, prev = raw, None
            continue
        findings += _link(entry, position, prev_raw, prev, commit)
        misfiled = added[0].path != f"{entry.seq:08d}.json"
        if misfiled and not renamed:  # once per run of renumbered files, not once per file
            findings.append(Finding("chain", f"entry {entry.seq} is stored as {added[0].path} (and so on after it "
                                    "until the numbers agree again): moved or renumbered", entry.seq, entry.stack,
                                    entry.kind, entry.commit))
        renamed = misfiled
        findings += _signed(entry, commit, copy.signatures_checked)
        entries.append(entry)
        commits[entry.seq] = commit.sha
        prev_raw, prev = raw, entry
    digests = {e.digest(): e.seq for e in entries}
    return Chain(tuple(entries), commits, digests, tuple(findings))


def _shape(commit: LedgerCommit, position: int) -> list[Finding]:
    """A ledger commit has one parent (none for the first) and only adds the next entry's file."""
    out = []
    if len(commit.parents) > 1:
        out.append(Finding("chain", f"ledger commit {commit.sha[:12]} is a merge: the ledger is a single chain, so "
                           "two histories were joined", position))
    if position > 1 and not commit.parents:
        out.append(Finding("chain", f"ledger commit {commit.sha[:12]} is a second root: an unrelated history was "
                           "grafted onto the ledger", position))
    for change in commit.changes:
        if change.status != "A":
            verb = {"M": "rewrites", "D": "deletes"}.get(change.status, "changes")
            out.append(Finding("chain", f"ledger commit {commit.sha[:12]} {verb} {change.path} after it was "
                               "written: entries are only ever added", _seq_of(change.path)))
        elif not _FILE.match(change.path):
            out.append(Finding("chain", f"ledger commit {commit.sha[:12]} adds {change.path!r}, which is not an "
                               "entry file", position))
    added = [c.path for c in commit.changes if c.status == "A" and _FILE.match(c.path)]
    if len(added) > 1:
        out.append(Finding("chain", f"ledger commit {commit.sha[:12]} adds {len(added)} entries at once "
                           f"({', '.join(added)}): one commit per entry", position))
    return out


def _link(entry: Entry, position: int, prev_raw: bytes | None, prev: Entry | None,
          commit: LedgerCommit) -> list[Finding]:
    """The entry is the next in sequence, links to the bytes before it, and is not backdated."""
    out = []

    def at(check: str, message: str) -> Finding:
        return Finding(check, message, entry.seq, entry.stack, entry.kind, entry.commit)

    expected_seq = prev.seq + 1 if prev is not None else position
    if entry.seq != expected_seq:
        gap = (f"entries {expected_seq}..{entry.seq - 1} are missing (dropped)" if entry.seq > expected_seq else
               f"it comes after entry {expected_seq - 1} (reordered or replayed)")
        out.append(at("chain", f"sequence break at ledger commit {commit.sha[:12]}: {gap}"))
    expected_prev = hashlib.sha256(prev_raw).hexdigest() if prev_raw is not None else GENESIS
    if entry.prev != expected_prev:
        out.append(at("chain", f"prev {entry.prev[:12]} is not the hash of the entry before it "
                      f"({expected_prev[:12]}): an earlier entry was rewritten, dropped or reordered"))
    if prev is not None and entry.time is not None and prev.time is not None and entry.time < prev.time - SKEW:
        out.append(at("backdated", f"recorded at {entry.at}, {prev.time - entry.time} before entry {prev.seq} "
                      f"({prev.at}) that precedes it in the chain: backdated"))
    return out


def _signed(entry: Entry, commit: LedgerCommit, checked: bool) -> list[Finding]:
    if not checked or commit.signature == "G":
        return []
    why = {"U": "signed by a key that is not in the trust root", "B": "its signature does not verify",
           "N": "unsigned", "E": "its signature cannot be checked", "X": "signed by an expired signature",
           "Y": "signed by an expired key", "R": "signed by a revoked key"}.get(commit.signature, "not verified")
    return [Finding("signature", f"ledger commit {commit.sha[:12]} is {why}", entry.seq, entry.stack, entry.kind,
                    entry.commit)]


def checkpoints(chain: Chain, copy: LedgerCopy, held: Sequence[str]) -> list[Finding]:
    """Every checkpoint (an entry digest, or a ledger commit id) the auditor holds is in this ledger."""
    out = []
    commits = {c.sha for c in copy.commits}  # every commit reachable from the tip
    for value in held:
        if value in chain.digests or value in commits:
            continue
        out.append(Finding("checkpoint", f"checkpoint {value[:16]} published by a rollout is not in this ledger "
                           f"(tip {str(copy.tip)[:12]}, {len(chain.entries)} entries): the branch was replaced or "
                           "rolled back since it was published"))
    return out


def valid_checkpoint(value: str) -> bool:
    """Tell whether a value can be a checkpoint: an entry digest (64 hex) or a ledger commit id (40 hex)."""
    return bool(_HEX.match(value))


def _seq_of(path: str) -> int | None:
    found = _FILE.match(path)
    return int(found[1]) if found else None
