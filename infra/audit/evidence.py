"""The report's view of the evidence: the typed history `infra.audit.history` folds from the ledger, and main's
in-scope commits (`infra.audit.mainline`), projected into flat, frozen records that cite the ledger entries (by
seq) proving each fact and carry the times the metrics and the timeline need.

Nothing here reads the chain again: releases, waves, rollbacks, resumes, incidents and break-glass windows are the
history's. What is added is only what a reader of the report wants beside each record: the wave results and times,
the rollback's own waves, which release put a reverted incident's value back (the last verification of that target
before the incident closed), and which change to main followed an adoption. Times are the writers' `at` clocks,
used for durations only; order is the chain's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from infra.audit import history
from infra.audit.history import History
from infra.audit.mainline import MainCommit
from infra.ledger.entry import Entry


@dataclass(frozen=True)
class Commit:
    """One commit on main that changed what Lockstep deploys (workflows/, infra/, policies/, a stack file)."""

    sha: str
    author: str
    at: str          # committer date: when it landed on main
    subject: str


@dataclass(frozen=True)
class Gate:
    """The gate recorded for a commit: the verdict per stack and the forge's facts of the merge."""

    seq: int
    result: str
    stacks: Mapping[str, str]           # stack -> pass | blocked
    github: Mapping[str, Any]


@dataclass(frozen=True)
class Wave:
    """One wave of one attempt: intent, apply, verification, each with the entry that records it."""

    index: int
    targets: tuple[str, ...]
    intent_seq: int | None = None
    intent_at: str = ""
    applied: str | None = None
    applied_seq: int | None = None
    verified: str | None = None
    verified_seq: int | None = None
    verified_at: str = ""
    checks: tuple[tuple[str, str, str], ...] = ()   # (workflow, target, pass | fail | inconclusive)
    break_glass: tuple[str, ...] = ()
    resumed: str | None = None


@dataclass(frozen=True)
class Rollback:
    """The rollback of a failed attempt: to which release, the waves re-applied and verified, its result."""

    to_commit: str
    start_seq: int
    done_seq: int | None = None
    result: str | None = None           # ok | incomplete
    problems: tuple[str, ...] = ()
    waves: tuple[Wave, ...] = ()
    at: str = ""


@dataclass(frozen=True)
class Release:
    """One attempt at releasing one commit to one stack, with every piece of evidence the ledger holds for it."""

    stack: str
    commit: str
    holder: str = ""
    started_at: str = ""
    finished_at: str = ""
    outcome: str = "in-progress"        # released | rolled-back | in-progress
    released_seq: int | None = None
    bad_seq: int | None = None
    waves: tuple[Wave, ...] = ()
    rollback: Rollback | None = None
    overrides: tuple[tuple[str, str, int], ...] = ()   # (scope, reason, seq): break-glass for this attempt
    resumes: tuple[int, ...] = ()
    seqs: tuple[int, ...] = ()

    @property
    def failed(self) -> bool:
        """Tell whether the attempt failed (a wave failed, was inconclusive, or it was rolled back)."""
        return self.outcome == "rolled-back" or self.rollback is not None

    @property
    def emergency(self) -> bool:
        """Tell whether the attempt went through a break-glass (skip staging, re-release a bad release)."""
        return bool(self.overrides)


@dataclass(frozen=True)
class Incident:
    """One drift incident: what drifted where, when it was detected, and how it was resolved."""

    id: str
    stack: str
    workflow: str
    target: str
    attribute: str
    detected_seq: int
    detected_at: str
    changed_at: str = ""
    changed_by: str = ""
    resolution: str = ""                # adopted | reverted | "" (open)
    resolved_seq: int | None = None
    resolved_at: str = ""
    pr: int | None = None               # the PR the adoption names
    reverted_by: str = ""               # the release commit that put git's value back (filled in by `fold`)
    adopted_by: str = ""                # the first change to main after the adoption (filled in by `fold`)
    seqs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Glass:
    """One break-glass window on one workflow and target: why, until when, and its after-the-fact review."""

    stack: str
    workflow: str
    target: str
    reason: str
    opened_by: str
    opened_seq: int
    opened_at: str
    expires: str
    closed_seq: int | None = None
    closed_at: str = ""
    resolution: str = ""                # adopt | revert | "" (still open)
    review: str = ""                    # what the closer recorded


@dataclass(frozen=True)
class Evidence:
    """Everything the report shows, folded once."""

    commits: tuple[Commit, ...]
    gates: Mapping[tuple[str, str], Gate]          # (stack, commit) -> the latest gate
    releases: tuple[Release, ...]
    incidents: tuple[Incident, ...]
    glass: tuple[Glass, ...]
    entries: int
    repository: str = ""
    tip_seq: int = 0
    stacks: tuple[str, ...] = field(default_factory=tuple)
    last_at: str = ""                              # the latest entry's clock: the report's "as of"

    def gate(self, stack: str, commit: str) -> Gate | None:
        """Return the gate recorded for the commit on the stack, or None."""
        return self.gates.get((stack, commit))


def project(h: History, commits: Sequence[MainCommit]) -> Evidence:
    """Return the report's view of the folded history (`infra.audit.history`) and main's in-scope commits."""
    gates = {key: _gate(found[-1]) for key, found in h.gates.items() if found}
    releases = tuple(_release(r) for r in h.releases)
    mine = tuple(Commit(c.sha, _author(gates, c.sha), c.committed.isoformat(timespec="seconds"), c.subject)
                 for c in commits if c.in_scope)
    incidents = tuple(_linked(_incident(i), releases, mine) for i in h.incidents.values())
    glass = tuple(_glass(w) for w in h.windows)
    repository = next((str(g.github["repository"]) for g in gates.values() if g.github.get("repository")), "")
    return Evidence(mine, gates, releases, incidents, glass, len(h.entries), repository,
                    h.entries[-1].seq if h.entries else 0, tuple(dict.fromkeys(r.stack for r in releases)),
                    max((e.at for e in h.entries if e.at), default="", key=instant))


def _author(gates: Mapping[tuple[str, str], Gate], sha: str) -> str:
    return next((str(g.github.get("author") or "") for (_s, c), g in gates.items() if c == sha), "")


def _gate(e: Entry) -> Gate:
    stacks = {str(k): ("blocked" if v.get("blocked") else "pass") for k, v in
              (e.evidence.get("stacks") or {}).items() if isinstance(v, Mapping)}
    return Gate(e.seq, str(e.evidence.get("result", "")), stacks, dict(e.evidence.get("github") or {}))


def _release(r: history.Release) -> Release:
    entries = [r.first, *r.rollback, *r.resumes, *(e for e in (r.verified, r.bad) if e is not None),
               *(e for w in r.waves.values() for e in (w.intent, w.applied, w.verified) if e is not None)]
    last = max(entries, key=lambda e: e.seq)
    resumed = {int(e.evidence["wave"]): str(e.evidence.get("decision", "")) for e in r.resumes
               if "wave" in e.evidence}
    waves = tuple(_wave(w, resumed.get(i)) for i, w in sorted(r.waves.items()))
    return Release(r.stack, r.commit, ", ".join(r.holders), r.first.at, last.at, r.outcome,
                   r.verified.seq if r.verified else None, r.bad.seq if r.bad else None, waves, _rollback(r),
                   tuple((str(e.evidence.get("scope", "")), str(e.evidence.get("reason", "")), e.seq)
                         for e in r.overrides), tuple(e.seq for e in r.resumes), tuple(r.seqs))


def _wave(w: history.WaveRecord, resumed: str | None = None) -> Wave:
    v = w.verified
    checks = tuple((str(c.get("workflow", "")), str(c.get("target", "")), str(c.get("result", "")))
                   for c in (v.evidence.get("checks") or () if v else ()) if isinstance(c, Mapping))
    return Wave(w.index, w.targets, w.intent.seq if w.intent else None, w.intent.at if w.intent else "",
                str(w.applied.evidence.get("result", "")) if w.applied else None,
                w.applied.seq if w.applied else None, w.result or None, v.seq if v else None, v.at if v else "",
                checks, tuple(str(x) for x in (w.intent.evidence.get("break_glass") or () if w.intent else ())),
                resumed)


def _rollback(r: history.Release) -> Rollback | None:
    phases = [e for e in r.rollback if e.kind == "rollback"]
    if not phases:
        return None
    start, done = phases[0], next((e for e in phases if e.evidence.get("phase") == "done"), None)
    waves: dict[int, history.WaveRecord] = {}
    for e in r.rollback:
        if e.kind in ("intent", "applied", "verified") and "wave" in e.evidence:
            w = waves.setdefault(int(e.evidence["wave"]), history.WaveRecord(int(e.evidence["wave"])))
            w.targets = tuple(str(t) for t in e.evidence.get("targets", w.targets))
            setattr(w, e.kind, e)
    return Rollback(str(start.evidence.get("to_commit", "")), start.seq, done.seq if done else None,
                    str(done.evidence.get("result", "")) if done else None,
                    tuple(str(p) for p in (done.evidence.get("problems") or () if done else ())),
                    tuple(_wave(w) for _i, w in sorted(waves.items())), start.at)


def _incident(i: history.Incident) -> Incident:
    latest = i.states[-1].evidence if i.states else {}
    end = i.entry_in(i.state) if i.state in ("adopted", "reverted") else None
    return Incident(i.id, i.stack, i.workflow, i.target, str(latest.get("canonical") or i.attribute),
                    i.states[0].seq if i.states else 0, i.first_seen, str(latest.get("changed_at") or ""),
                    str(latest.get("changed_by") or ""), i.state if end else "", end.seq if end else None,
                    str(end.evidence.get("last_seen") or end.at) if end else "", _pr(end.evidence) if end else None,
                    seqs=tuple(e.seq for e in i.states))


def _glass(w: history.Window) -> Glass:
    c = w.closed
    return Glass(w.stack, w.workflow, w.target, w.reason, w.opened.holder, w.opened.seq, w.opened.at, w.expires,
                 c.seq if c else None, c.at if c else "", str(c.evidence.get("resolution", "")) if c else "",
                 str(c.evidence.get("reason", "")) if c else "")


def _pr(ev: Mapping[str, Any]) -> int | None:
    """Return the PR an incident's resolution names (`pr`, or '#123' in its latest note), or None."""
    pr = ev.get("pr")
    if isinstance(pr, int) or (isinstance(pr, str) and pr.isdigit()):
        return int(pr)
    notes = [str(h.get("note", "")) for h in ev.get("history") or () if isinstance(h, Mapping)]
    found = re.search(r"#(\d+)", notes[-1]) if notes else None
    return int(found[1]) if found else None


def instant(text: str) -> dt.datetime:
    """Return an ISO instant (a trailing Z or an offset; naive means UTC) as an aware datetime."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def verified_on(releases: Sequence[Release], stack: str, target: str) -> list[tuple[str, str, int]]:
    """Return (when, commit, seq) of every passing wave verification (release or rollback) on the target."""
    out = []
    for r in releases:
        if r.stack != stack:
            continue
        pairs = [(w, r.commit) for w in r.waves]
        if r.rollback is not None:
            pairs += [(w, r.rollback.to_commit) for w in r.rollback.waves]
        out += [(w.verified_at, commit, w.verified_seq or 0) for w, commit in pairs
                if w.verified == "pass" and target in w.targets and w.verified_at]
    return sorted(out, key=lambda x: x[2])


def _linked(i: Incident, releases: Sequence[Release], commits: Sequence[Commit]) -> Incident:
    """Name what resolved the incident: the release that put git's value back, or the change that adopted it."""
    if i.resolution == "reverted" and not i.reverted_by and i.resolved_seq:
        before = [c for _at, c, seq in verified_on(releases, i.stack, i.target) if seq < (i.resolved_seq or 0)]
        return replace(i, reverted_by=before[-1] if before else "")
    if i.resolution == "adopted" and i.resolved_at:
        after = [c.sha for c in commits if instant(c.at) >= instant(i.resolved_at)]
        return replace(i, adopted_by=after[0] if after else "")
    return i
