"""Compare git with what runs: desired vs live field by field, and each target's live schedule against the others'.

A live schedule is judged by its fire times (the schedule engine evaluates the live native expression), so a zone
edited on one platform reads "aws fires at 08:15Z, the others at 07:15Z", not as a string diff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.drift.collect import Collected, Live
from infra.drift.desired import Declaration, Declared
from infra.drift.tolerance import Level, Tolerance
from infra.model import Workflow
from infra.schedule.equivalence import Verdict
from infra.schedule.workflow_check import check_workflow
from infra.targets.base import differences
from infra.targets.registry import TARGETS

DIGEST = "lockstep-digest"


@dataclass(frozen=True)
class Finding:
    """One difference between git and a platform (or between platforms), with how it is judged."""

    workflow: str
    target: str
    kind: str            # field | cross-target | missing | inconclusive | unmanaged
    level: str           # drift | warning | tolerated | inconclusive
    canonical: str = ""
    attribute: str = ""
    desired: object = None
    live: object = None
    cause: str = ""      # out-of-band (same release, changed by hand) | not-deployed (another release runs)
    first_diverging: str = ""  # ISO instant of the first fire time that differs, for schedules
    detail: str = ""
    resource: str = ""   # the live resource that differs, by kind and live name ("Schedule reports/nightly")

    def key(self) -> tuple[str, str, str, str]:
        """Return what identifies the same drift across runs."""
        return self.workflow, self.target, self.kind, self.attribute or self.canonical


def compare(decl: Declaration, got: Collected, tolerance: Tolerance) -> list[Finding]:
    """Return every finding of a stack: fields, schedules across targets, missing, unreadable and unmanaged."""
    findings: list[Finding] = []
    for d in decl.declared:
        findings.extend(_pair(d, got.live[(d.workflow.name, d.target)], tolerance))
    for wf in _by_workflow(decl.declared):
        findings.extend(_schedules(wf, decl, got, findings))
    for target, why in sorted(got.target_errors.items()):
        findings.append(Finding("", target, "inconclusive", "inconclusive", detail=why))
    for u in got.unmanaged:
        if (u.workflow, u.target) in decl.deployed:
            continue  # a declared workflow outside this run's --workflow selection, not a ghost
        findings.append(Finding(u.workflow, u.target, "unmanaged", "drift", attribute=u.name,
                                detail=f"{u.kind} {u.name} carries Lockstep's name or stamps but no declared "
                                       f"workflow deploys it here (an orphan or a ghost)"))
    return findings


def _pair(d: Declared, live: Live, tolerance: Tolerance) -> list[Finding]:
    name, target = d.workflow.name, d.target
    if live.inconclusive:
        return [Finding(name, target, "inconclusive", "inconclusive", detail=live.inconclusive)]
    if live.missing:
        return [Finding(name, target, "missing", "drift", detail=live.missing)]
    diffs = differences(d.desired, live.desired)
    cause = _cause(d.desired, live.desired)
    return [Finding(name, target, "field", tolerance.level(x.canonical, x.declared, x.observed), x.canonical,
                    x.attribute, x.declared, x.observed, cause, resource=_resource(target, x.attribute, live))
            for x in diffs]


def _resource(target: str, attribute: str, live: Live) -> str:
    """Return the live resource an attribute is read from, as its kind and live name ("" when not known)."""
    wanted = TARGETS[target].sources.get(attribute)
    name = next((n for t, n in live.names if t == wanted), None)
    return f"{wanted.rsplit(':', 1)[-1]} {name}" if wanted and name else ""


def _cause(desired: object, live: object) -> str:
    ours, theirs = getattr(desired, "stamps", {}), getattr(live, "stamps", {})
    return "out-of-band" if ours.get(DIGEST) == theirs.get(DIGEST) else "not-deployed"


def _by_workflow(declared: Sequence[Declared]) -> list[Workflow]:
    seen: dict[str, Workflow] = {}
    for d in declared:
        seen.setdefault(d.workflow.name, d.workflow)
    return list(seen.values())


def _schedules(wf: Workflow, decl: Declaration, got: Collected, findings: list[Finding]) -> list[Finding]:
    """Judge the live native schedules by fire times: against git, and against the other targets' live ones."""
    pairs = [d for d in decl.declared if d.workflow.name == wf.name]
    live = {d.target: got.live[(wf.name, d.target)].desired for d in pairs}
    readable = {t: v for t, v in live.items() if v is not None}
    changed = [d.target for d in pairs if d.target in readable and
               readable[d.target].native_schedule() != d.desired.native_schedule()]
    if not changed:
        return []
    declared_v = _verdicts(wf, decl, {})
    live_v = _verdicts(wf, decl, {t: v.native_schedule() for t, v in readable.items()})
    moved = [t for t in changed if _signature(live_v.get(t)) != _signature(declared_v.get(t))]
    steady = sorted(t for t in readable if t not in moved)
    out: list[Finding] = []
    for target in moved:
        first = live_v[target].first
        at = (first.canonical or first.actual or ("",))[0] if first else ""
        _stamp_first(findings, wf.name, target, at, note=_fires(first))
        if steady:
            out.append(Finding(wf.name, target, "cross-target", "drift", "schedule", "fire times",
                               _when(first, "canonical"), _when(first, "actual"), first_diverging=at,
                               detail=f"{target}'s live schedule fires differently from {', '.join(steady)} "
                                      f"(which still fire as declared): {first.detail if first else ''}"))
    for target in (t for t in changed if t not in moved):
        _stamp_first(findings, wf.name, target, "", note="rewritten, but fires at the same instants")
    return out


def _verdicts(wf: Workflow, decl: Declaration, registered: dict[str, object]) -> dict[str, Verdict]:
    found = check_workflow(wf, decl.stack, horizon_days=400, registered=registered or None)  # type: ignore[arg-type]
    return {f.target: f.verdict for f in found}


def _signature(v: Verdict | None) -> tuple[object, ...]:
    if v is None:
        return ()
    return v.equivalent, tuple((d.kind, d.at) for d in v.divergences[:3])


def _fires(first: object) -> str:
    git, live = (list(getattr(first, side, ()) or ()) for side in ("canonical", "actual"))
    return (f"first diverging fire: git fires {', '.join(git[:2]) or 'nothing'}, live fires "
            f"{', '.join(live[:2]) or 'nothing'} ({getattr(first, 'kind', '')})")


def _when(first: object, side: str) -> object:
    return list(getattr(first, side, ()) or ())[:3]


def _stamp_first(findings: list[Finding], workflow: str, target: str, at: str, note: str = "") -> None:
    """Add the first diverging fire time (or why there is none) to the schedule findings of a pair."""
    for i, f in enumerate(findings):
        if f.workflow == workflow and f.target == target and f.kind == "field" and \
                f.canonical in ("schedule", "timezone", "schedule.start", "schedule.end"):
            findings[i] = Finding(**{**f.__dict__, "first_diverging": at, "detail": note or f.detail})


def level_of(findings: Sequence[Finding]) -> Level | str:
    """Return the run's verdict: drift if anything drifted, else inconclusive if anything was unreadable, else sync."""
    if any(f.level == "drift" for f in findings):
        return "drift"
    if any(f.level == "inconclusive" for f in findings):
        return "inconclusive"
    return "in-sync"
