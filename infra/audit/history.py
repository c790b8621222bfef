"""Fold the ledger's entries into a typed history: releases per stack with their gate, waves, verifications,
rollback, resumes and bad-release mark; drift incidents from detection to resolution; break-glass windows from
opening to their after-the-fact review.

Order is the chain's (`seq`), never the `at` field: `at` is kept for people and for the time metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from infra.ledger.entry import Entry


@dataclass
class WaveRecord:
    """One wave of a release attempt: its intent, apply and verification entries (the latest of each)."""

    index: int
    targets: tuple[str, ...] = ()
    intent: Entry | None = None
    applied: Entry | None = None
    verified: Entry | None = None

    @property
    def result(self) -> str:
        """Return the wave's verification result ('' when never verified)."""
        return str(self.verified.evidence.get("result", "")) if self.verified is not None else ""


@dataclass
class Release:
    """One attempt at releasing a commit to a stack, from its first intent to the entry that ended it."""

    stack: str
    commit: str
    gate: Entry | None
    first: Entry
    waves: dict[int, WaveRecord] = field(default_factory=dict)
    verified: Entry | None = None          # the release-wide verified entry (outcome: released)
    bad: Entry | None = None               # the bad-release mark (outcome: rolled back)
    rollback: list[Entry] = field(default_factory=list)   # rollback phases and the rollback's own waves
    resumes: list[Entry] = field(default_factory=list)
    overrides: list[Entry] = field(default_factory=list)  # break-glass entries for this commit on this stack
    holders: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """Return released, rolled-back or in-progress."""
        if self.verified is not None:
            return "released"
        return "rolled-back" if self.bad is not None else "in-progress"

    @property
    def seqs(self) -> list[int]:
        """Return the ledger entries of the attempt, in chain order."""
        found = {self.first.seq, *(e.seq for e in self.rollback), *(e.seq for e in self.resumes)}
        for w in self.waves.values():
            found |= {e.seq for e in (w.intent, w.applied, w.verified) if e is not None}
        found |= {e.seq for e in (self.verified, self.bad) if e is not None}
        return sorted(found)


@dataclass
class Incident:
    """One drift incident: every state the ledger recorded for it."""

    id: str
    stack: str
    workflow: str
    target: str
    attribute: str
    states: list[Entry] = field(default_factory=list)

    @property
    def state(self) -> str:
        """Return its latest state."""
        return str(self.states[-1].evidence.get("state", "")) if self.states else ""

    @property
    def first_seen(self) -> str:
        """Return when it was first seen (the drift run's clock)."""
        return str(self.states[0].evidence.get("first_seen", "")) if self.states else ""

    def entry_in(self, state: str) -> Entry | None:
        """Return the first entry recording the given state."""
        return next((e for e in self.states if e.evidence.get("state") == state), None)


@dataclass
class Window:
    """One break-glass window on a workflow and target: opened with a reason and an expiry, closed with a review."""

    stack: str
    workflow: str
    target: str
    opened: Entry
    closed: Entry | None = None

    @property
    def reason(self) -> str:
        """Return why it was opened."""
        return str(self.opened.evidence.get("reason", ""))

    @property
    def expires(self) -> str:
        """Return when it expires (as recorded)."""
        return str(self.opened.evidence.get("expires", ""))


@dataclass
class History:
    """The whole ledger, folded."""

    entries: tuple[Entry, ...]
    releases: list[Release]
    incidents: dict[str, Incident]
    windows: list[Window]
    gates: dict[tuple[str, str], list[Entry]]       # (stack, commit) -> gate entries
    skips: dict[tuple[str, str], list[Entry]]       # (stack, commit) -> break-glass entries that waived a rule

    def released(self, stack: str) -> list[Release]:
        """Return the releases that ended verified on the stack, in order."""
        return [r for r in self.releases if r.stack == stack and r.outcome == "released"]


def fold(entries: Sequence[Entry]) -> History:
    """Fold the chain into releases, incidents and windows."""
    h = History(tuple(entries), [], {}, [], {}, {})
    open_: dict[tuple[str, str], Release] = {}
    for e in entries:
        key = (e.stack, e.commit)
        if e.kind == "gate":
            h.gates.setdefault(key, []).append(e)
        elif e.kind == "break-glass" and "scope" in e.evidence:
            h.skips.setdefault(key, []).append(e)
            if key in open_:
                open_[key].overrides.append(e)
        elif e.kind in ("break-glass", "adopt") and "workflow" in e.evidence and "action" in e.evidence:
            _window(h, e)
        elif e.kind == "drift" and "id" in e.evidence:
            _incident(h, e)
        elif e.kind in ("intent", "applied", "verified", "rollback", "resume", "bad-release"):
            _release_entry(h, open_, e)
    return h


def _release_entry(h: History, open_: dict[tuple[str, str], Release], e: Entry) -> None:
    purpose = str(e.evidence.get("purpose", "release"))
    if purpose == "rollback":
        failed = open_.get((e.stack, str(e.evidence.get("rollback_of", ""))))
        if failed is not None:
            failed.rollback.append(e)
        return
    key = (e.stack, e.commit)
    if e.kind == "rollback":
        key = (e.stack, str(e.evidence.get("failed_commit", e.commit)))
    release = open_.get(key)
    if release is None:
        if e.kind != "intent":
            return  # an entry outside any attempt (a soak re-check of an earlier release): nothing to attach
        gates = h.gates.get(key, [])
        release = Release(e.stack, e.commit, gates[-1] if gates else None, e,
                          overrides=list(h.skips.get(key, [])))
        open_[key] = release
        h.releases.append(release)
    if e.holder not in release.holders:
        release.holders.append(e.holder)
    if e.kind == "rollback":
        release.rollback.append(e)
    elif e.kind == "resume":
        release.resumes.append(e)
    elif e.kind == "bad-release":
        release.bad = e
        del open_[key]
    elif e.kind == "verified" and e.evidence.get("scope") == "release":
        if e.evidence.get("result") == "pass":
            release.verified = e
            del open_[key]
    elif "wave" in e.evidence and e.evidence.get("scope") != "soak":
        wave = release.waves.setdefault(int(e.evidence["wave"]), WaveRecord(int(e.evidence["wave"])))
        wave.targets = tuple(str(t) for t in e.evidence.get("targets", wave.targets))
        setattr(wave, e.kind, e)


def _window(h: History, e: Entry) -> None:
    workflow, target = str(e.evidence["workflow"]), str(e.evidence["target"])
    if e.kind == "break-glass" and e.evidence.get("action") == "open":
        h.windows.append(Window(e.stack, workflow, target, e))
        return
    if e.evidence.get("action") != "close":
        return
    for w in reversed(h.windows):
        if (w.stack, w.workflow, w.target) == (e.stack, workflow, target) and w.closed is None:
            w.closed = e
            return


def _incident(h: History, e: Entry) -> None:
    iid = str(e.evidence["id"])
    if iid not in h.incidents:
        h.incidents[iid] = Incident(iid, e.stack, str(e.evidence.get("workflow", "")),
                                    str(e.evidence.get("target", "")), str(e.evidence.get("attribute", "")))
    h.incidents[iid].states.append(e)
