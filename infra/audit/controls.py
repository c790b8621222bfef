"""The control checks on the folded history: completeness of the population against main, and per release the
approval, the gate's evidence, staging before production, the configured waves each verified; drift incidents and
break-glass windows with their resolution and review.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.audit.findings import Finding
from infra.audit.history import History, Incident, Release, Window
from infra.audit.mainline import MainCommit
from infra.ledger.entry import Entry

Waves = Callable[[str, str], "list[tuple[str, ...]] | None"]  # (commit, stack) -> configured waves


@dataclass(frozen=True)
class Change:
    """One commit of the population and how the ledger accounts for it."""

    commit: str
    subject: str
    status: str                 # released | superseded | rolled-back | blocked | pending | unrecorded
    detail: str
    stacks: tuple[str, ...] = ()  # where it was released


@dataclass
class Accounted:
    """What the checks found: findings, notes (facts worth a look that prove nothing wrong), the population."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    population: list[Change] = field(default_factory=list)


def completeness(h: History, main: Sequence[MainCommit], period: set[str] | None, out: Accounted) -> None:
    """Account for every in-scope commit on main; find commits that reached a stack with no entry of their own."""
    position = {c.sha: i for i, c in enumerate(main)}
    recorded = {e.commit for e in h.entries if e.commit}
    stacks = sorted({r.stack for r in h.releases})
    for i, c in enumerate(main):
        if not c.in_scope or (period is not None and c.sha not in period):
            continue
        later = [r for r in h.releases if r.outcome != "in-progress" and position.get(r.commit, -1) > i]
        if c.sha in recorded:
            out.population.append(_accounted(h, c, stacks, later))
            continue
        if later:
            first = min(later, key=lambda r: r.first.seq)
            files = ", ".join(f for f in c.files[:4])
            out.findings.append(Finding("completeness", f"changed {files} on main and reached {first.stack} in the "
                                        f"release of {first.commit[:12]} (entry {first.first.seq}) with no ledger "
                                        "entry of its own: no gate, approval or deployment record exists for it",
                                        commit=c.sha))
            out.population.append(Change(c.sha, c.subject, "unrecorded", f"deployed with {first.commit[:12]}"))
        else:
            out.population.append(Change(c.sha, c.subject, "pending", "not rolled out yet"))
            out.notes.append(f"commit {c.sha[:12]} ({c.subject}) is not rolled out yet")
    for r in h.releases:
        if r.commit not in position:
            out.findings.append(Finding("completeness", f"released to {r.stack}, but the commit is not on main: a "
                                        "change that did not go through the merge process", r.first.seq, r.stack,
                                        r.first.kind, r.commit))


def _accounted(h: History, c: MainCommit, stacks: list[str], later: list[Release]) -> Change:
    mine = [r for r in h.releases if r.commit == c.sha]
    done = tuple(s for s in stacks if any(r.stack == s and r.outcome == "released" for r in mine))
    parts = [f"released to {', '.join(done)}"] if done else []
    for s in (s for s in stacks if s not in done):
        nxt = next((r for r in later if r.stack == s and r.outcome == "released"), None)
        if nxt is not None:
            parts.append(f"superseded on {s} by {nxt.commit[:12]}")
    if any(r.outcome == "rolled-back" for r in mine):
        parts.append("rolled back (bad release)")
    gates = [g for (_s, commit), gs in h.gates.items() if commit == c.sha for g in gs]
    if gates and all(g.evidence.get("result") != "pass" for g in gates):
        parts.append("blocked by the gate")
    status = ("released" if done else "rolled-back" if any(r.outcome == "rolled-back" for r in mine)
              else "superseded" if parts else "pending")
    return Change(c.sha, c.subject, status, "; ".join(parts) or "recorded, not rolled out yet", done)


def release_checks(h: History, r: Release, waves: Waves, prod: str, staging: str, out: Accounted) -> None:
    """Check one release: its gate everywhere, and for production its approval and its staging release first."""
    _gate(r, out)
    if r.stack == prod:
        _approval(r, out)
        _staging_first(h, r, staging, out)
    if r.outcome == "released":
        _waves(r, waves(r.commit, r.stack), out)
    for e in r.overrides:
        if not str(e.evidence.get("reason", "")).strip():
            out.findings.append(_at(e, "emergency", f"break-glass ({e.evidence.get('scope')}) recorded with no "
                                    "reason"))


def _at(e: Entry, check: str, message: str) -> Finding:
    return Finding(check, message, e.seq, e.stack, e.kind, e.commit)


def _gate(r: Release, out: Accounted) -> None:
    if r.gate is None:
        out.findings.append(_at(r.first, "testing", f"applied to {r.stack} with no gate entry for this commit: no "
                                "evidence the policy gate ran before the change"))
        return
    ev = r.gate.evidence
    if ev.get("result") != "pass":
        out.findings.append(_at(r.gate, "testing", f"the gate's result is {ev.get('result')!r}, yet the commit was "
                                f"applied to {r.stack} (entry {r.first.seq})"))
    verdicts: dict[str, Any] = dict(ev.get("stacks") or {})
    if r.stack not in verdicts:
        out.findings.append(_at(r.gate, "testing", f"the gate holds no verdict for {r.stack}"))
    for stack, verdict in sorted(verdicts.items()):
        if isinstance(verdict, dict) and verdict.get("blocked"):
            out.findings.append(_at(r.gate, "testing", f"the gate blocked {stack}, yet the commit was applied"))
    if r.verified is not None and dict(r.gate.digests) != dict(r.verified.digests):
        out.findings.append(_at(r.verified, "testing", "the released spec digests differ from those the gate "
                                f"evaluated (entry {r.gate.seq}): what ran is not what was tested"))


def _approval(r: Release, out: Accounted) -> None:
    if r.gate is None:
        return
    facts: dict[str, Any] = dict(r.gate.evidence.get("github") or {})
    if not facts:
        out.findings.append(_at(r.gate, "approval", "no pull-request facts were recorded at the gate: approval "
                                "cannot be shown"))
        return
    author, approvers = facts.get("author"), [str(a) for a in facts.get("approvers") or []]
    pr = facts.get("pr")
    if pr is None:
        out.findings.append(_at(r.gate, "approval", "no merged pull request is recorded for the commit"))
        return
    others = [a for a in approvers if a != author]
    if not others:
        out.findings.append(_at(r.gate, "approval", f"PR #{pr} by {author} has no approval by anyone other than "
                                f"its author (approvers: {', '.join(approvers) or 'none'}): self-approved or "
                                "unreviewed"))
    elif facts.get("review_decision") != "APPROVED":
        out.findings.append(_at(r.gate, "approval", f"PR #{pr}'s review decision is "
                                f"{facts.get('review_decision')!r}, not APPROVED"))
    if facts.get("admin_bypass") is True:
        out.findings.append(_at(r.gate, "approval", f"PR #{pr} was merged by bypassing the branch's rules"))


def _staging_first(h: History, r: Release, staging: str, out: Accounted) -> None:
    before = [s for s in h.released(staging) if s.commit == r.commit and s.verified is not None
              and s.verified.seq < r.first.seq]
    if before:
        return
    waived = [e for e in h.skips.get((r.stack, r.commit), []) if e.evidence.get("scope") == "skip-after"]
    if waived:
        out.notes.append(f"entry {waived[0].seq}: {r.stack} release of {r.commit[:12]} without {staging}, by "
                         f"break-glass: {waived[0].evidence.get('reason')}")
        return
    out.findings.append(_at(r.first, "staging", f"released to {r.stack} with no verified {staging} release of the "
                            f"same commit before it (no break-glass recorded either)"))


def _waves(r: Release, configured: list[tuple[str, ...]] | None, out: Accounted) -> None:
    assert r.verified is not None
    if configured is None:
        out.findings.append(_at(r.verified, "waves", f"the waves of Pulumi.{r.stack}.yaml cannot be read at this "
                                "commit"))
        return
    last = 0
    for i, targets in enumerate(configured):
        wave = r.waves.get(i)
        name = f"wave {i + 1} [{', '.join(targets)}]"
        if wave is None or wave.intent is None:
            out.findings.append(_at(r.verified, "waves", f"{name} has no recorded deployment in this release"))
            continue
        if tuple(wave.targets) != tuple(targets):
            out.findings.append(_at(wave.intent, "waves", f"{name} deployed {list(wave.targets)}, not the "
                                    "configured targets"))
        if wave.intent.seq < last:
            out.findings.append(_at(wave.intent, "waves", f"{name} started before the previous wave was verified: "
                                    "waves out of the configured order"))
        if wave.verified is None or wave.result != "pass" or (wave.applied and wave.verified.seq < wave.applied.seq):
            found = f"its verification says {wave.result!r}" if wave.verified else "it was never verified"
            out.findings.append(_at(r.verified, "waves", f"released, but {name} has no passing verification after "
                                    f"its apply ({found})"))
            continue
        last = wave.verified.seq
    extra = sorted(set(r.waves) - set(range(len(configured))))
    if extra:
        out.findings.append(_at(r.verified, "waves", f"waves {[i + 1 for i in extra]} are not configured"))


def incident_checks(h: History, i: Incident, touched: Callable[[str], bool], out: Accounted) -> str:
    """Check one drift incident's resolution; return it in words (adopted by PR #N / reverted by release X / ...)."""
    last = i.states[-1]
    if i.state == "adopted":
        adopted = i.entry_in("adopted") or last
        by = next((r for r in h.released(i.stack) if r.verified is not None and r.verified.seq > adopted.seq
                   and touched(r.commit)), None)
        if by is None:
            out.notes.append(f"entry {adopted.seq}: drift incident {i.id} adopted; the pull request carrying it is "
                             "not released yet")
            return "adopted; not released yet"
        pr = (dict(by.gate.evidence.get("github") or {}).get("pr") if by.gate else None)
        return f"adopted by PR #{pr} ({by.commit[:12]}, released entry {by.verified.seq if by.verified else '?'})"
    if i.state == "reverted":
        asked = i.entry_in("revert-requested")
        start = asked.seq if asked else i.states[0].seq
        between = [r for r in h.released(i.stack) if r.verified is not None and start < r.verified.seq < last.seq]
        if not between:
            out.findings.append(_at(last, "drift", f"incident {i.id} ({i.workflow} on {i.target}: {i.attribute}) is "
                                    "recorded as reverted, but no release restored git's value in between"))
            return "reverted; no release recorded"
        done = between[-1].verified
        return f"reverted by the release of {between[-1].commit[:12]} (entry {done.seq if done else '?'})"
    if i.state == "overwritten":
        out.findings.append(_at(last, "drift", f"incident {i.id} ({i.workflow} on {i.target}: {i.attribute}) was "
                                "overwritten by a deploy: nobody adopted or reverted the out-of-band change"))
        return "overwritten, never decided"
    out.notes.append(f"entry {last.seq}: drift incident {i.id} is {i.state} since {i.first_seen}")
    return i.state


def window_checks(w: Window, now: str, out: Accounted) -> None:
    """A break-glass window has a reason, and is closed with an after-the-fact review once it has expired."""
    if not w.reason.strip():
        out.findings.append(_at(w.opened, "emergency", "break-glass opened with no reason"))
    if w.closed is None:
        if w.expires and now and w.expires <= now:
            out.findings.append(_at(w.opened, "emergency", f"break-glass on {w.workflow}/{w.target} expired at "
                                    f"{w.expires} and was never closed: no after-the-fact review"))
        else:
            out.notes.append(f"entry {w.opened.seq}: break-glass on {w.workflow}/{w.target} open until {w.expires}")
        return
    if not str(w.closed.evidence.get("reason", "")).strip():
        out.findings.append(_at(w.closed, "emergency", f"break-glass on {w.workflow}/{w.target} closed with no "
                                "review note"))
