"""Verify a wave against live state, three-valued: pass, fail, inconclusive.

For every workflow of the wave on every target: read live (`LiveReader`), normalize it back to the target's
`Desired` and compare field by field with the release's (`differences`: stamps and spec digest, the code digest,
every canonical field as the target realises it), then evaluate the live native schedule's fire times against the
canonical ones. An unreadable platform, or live resources that do not normalize (a missing field), is inconclusive:
never a pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from infra.fidelity import show
from infra.model import StackConfig, Workflow
from infra.rollout.live import LiveReader, Unreadable
from infra.rollout.plan import Release, Wave
from infra.schedule.workflow_check import check_workflow
from infra.targets.base import NormalizeError, differences
from infra.targets.registry import TARGETS

Result = Literal["pass", "fail", "inconclusive"]
HORIZON_DAYS = 120  # fire times compared over this window of the live schedule (the gate already checked 400 days)


@dataclass(frozen=True)
class Check:
    """One workflow on one target."""

    workflow: str
    target: str
    result: Result
    detail: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the ledger's evidence form."""
        return {"workflow": self.workflow, "target": self.target, "result": self.result, "detail": list(self.detail)}


def overall(checks: Iterable[Check]) -> Result:
    """Return fail if any check failed, else inconclusive if any was, else pass (an empty wave passes)."""
    results = {c.result for c in checks}
    return "fail" if "fail" in results else "inconclusive" if "inconclusive" in results else "pass"


def verify_one(reader: LiveReader, stack: StackConfig, wf: Workflow, target: str) -> Check:
    """Verify one workflow on one target against its Desired."""
    live = reader.read(stack, wf, target)
    if isinstance(live, Unreadable):
        return Check(wf.name, target, "inconclusive", (f"unreadable: {live.why}",))
    if not live.observed:
        return Check(wf.name, target, "fail", ("nothing is deployed",))
    declared = TARGETS[target].translate(wf, stack).desired
    try:
        found = TARGETS[target].normalize(list(live.observed))
    except NormalizeError as exc:
        return Check(wf.name, target, "inconclusive", (f"live resources cannot be read back ({exc})",))
    detail = [f"{d.canonical} ({d.attribute}): live {show(d.observed)!r}, declared {show(d.declared)!r}"
              for d in differences(declared, found)]
    detail += list(live.problems)
    release = declared.stamps.get("lockstep-digest") if hasattr(declared, "stamps") else None
    for o in live.observed:  # a half-applied wave: some resources still carry another release's digest
        other = stamped_digests(o.props) - {release}
        if release and other:
            detail.append(f"{o.type} {o.name} carries spec digest {', '.join(sorted(other))}, not this release's "
                          f"{release}: the wave is a mix of releases")
    detail += schedule_problems(wf, stack, target, found)
    return Check(wf.name, target, "fail" if detail else "pass", tuple(detail))


def schedule_problems(wf: Workflow, stack: StackConfig, target: str, live: Any) -> list[str]:
    """Return why the live native schedule's fire times are not the canonical ones (empty when equivalent)."""
    native = live.native_schedule()
    findings = check_workflow(wf, stack, horizon_days=HORIZON_DAYS, registered={target: native})
    return [f"schedule: {f.message}" for f in findings if f.target == target and f.level == "error"]


def verify_wave(reader: LiveReader, release: Release, wave: Wave,
                skip: Mapping[tuple[str, str], str] | None = None) -> list[Check]:
    """Verify every workflow of a wave on each of its targets; `skip` (break-glass) pairs are reported, not read."""
    out = []
    for target in wave.targets:
        for wf in release.on(target):
            why = (skip or {}).get((wf.name, target))
            out.append(Check(wf.name, target, "pass", (f"break-glass: {why}",)) if why else
                       verify_one(reader, release.stack, wf, target))
    return out


def stamped_digests(value: Any) -> set[str]:
    """Return every `lockstep-digest` stamp anywhere in a resource's properties (tags, labels, stamps)."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k == "lockstep-digest" and isinstance(v, str):
                found.add(v)
            else:
                found |= stamped_digests(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= stamped_digests(v)
    return found


def ghosts(reader: LiveReader, stack: StackConfig, workflows: Sequence[Workflow], bad: set[str]) -> list[str]:
    """Return every live resource, on any target, still carrying one of the `bad` release's spec digests."""
    out = []
    for wf in workflows:
        for target in (t for t in wf.target_names() if t in stack.enabled()):
            live = reader.read(stack, wf, target)
            if isinstance(live, Unreadable):
                out.append(f"{wf.name} on {target}: unreadable ({live.why}), so it cannot be shown free of ghosts")
                continue
            for o in live.observed:
                if stamped_digests(o.props) & bad:
                    out.append(f"{wf.name} on {target}: {o.type} {o.name} still carries the failed release's digest")
    return out
