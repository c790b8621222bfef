"""Equivalence for whole workflows: which platform each target uses, and which divergences were accepted."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from infra.model import DIVERGENCE_KINDS, StackConfig, Workflow
from infra.schedule.equivalence import TargetContext, Verdict, check
from infra.schedule.translate import Native, Refusal


@dataclass(frozen=True)
class Finding:
    """One equivalence result to report: an error unless accepted, a warning when only assumed."""

    workflow: str
    target: str
    level: str  # "error" | "warning" | "ok"
    message: str
    verdict: Verdict
    stack: str = ""  # "" when the repo has no stack and defaults were used


def contexts(workflow: Workflow, stack: StackConfig | None) -> tuple[TargetContext, ...]:
    """Return the platform context of each of the workflow's targets under a stack (defaults without one)."""
    out: list[TargetContext] = []
    for spec in workflow.targets:
        if spec.name == "azure":
            plan = str(spec.overrides.get("plan") or (stack.azure.plan if stack and stack.azure else "premium"))
            os_name = stack.azure.os if stack and stack.azure else "linux"
            out.append(TargetContext("azure", "azure", azure_plan=plan, azure_os=os_name))
        elif spec.name == "onprem":
            if stack is None or "onprem" in workflow.targets_in(stack):
                out.extend(_onprem(workflow.host_in(stack.name) if stack else None, stack))
        else:
            out.append(TargetContext(spec.name, spec.name))
    return tuple(out)


def _onprem(host_name: object, stack: StackConfig | None) -> list[TargetContext]:
    hosts = stack.onprem.hosts if stack and stack.onprem else ()
    chosen = [h for h in hosts if host_name is None or h.name == host_name]
    if not chosen:
        return [TargetContext("onprem", "cron", host_timezone="UTC")]
    return [TargetContext("onprem", h.scheduler, host_timezone=h.timezone) for h in chosen]


def check_workflow(workflow: Workflow, stack: StackConfig | None, horizon_days: int = 400,
                   start: dt.datetime | None = None,
                   registered: Mapping[str, Native | Refusal] | None = None) -> tuple[Finding, ...]:
    """Check one workflow's targets; a divergence is an error unless the workflow accepts its kind for that target.

    `registered` gives, per target, the native schedule that was registered (or is deployed) to evaluate instead of
    translating the canonical schedule again: the gate judges what the components deploy.
    """
    chosen = contexts(workflow, stack)
    if registered:
        chosen = _with_registered(chosen, registered)
    verdicts = check(workflow.schedule, chosen, horizon_days, start)
    return tuple(_finding(workflow, v) for v in verdicts)


def _with_registered(chosen: Sequence[TargetContext],
                     registered: Mapping[str, Native | Refusal]) -> tuple[TargetContext, ...]:
    out: list[TargetContext] = []
    for ctx in chosen:
        native = registered.get(ctx.target)
        if native is None:
            out.append(ctx)
        elif not any(c.target == ctx.target for c in out):  # one registered form replaces every candidate host
            host_tz = native.timezone if native.platform == "cron" and isinstance(native, Native) and \
                native.timezone else ctx.host_timezone
            out.append(dataclasses.replace(ctx, platform=native.platform, host_timezone=host_tz, native=native))
    return tuple(out)


def _finding(workflow: Workflow, verdict: Verdict) -> Finding:
    accepted = {(a.target, a.kind) for a in workflow.accepted_divergences}
    name = workflow.name
    if verdict.equivalent:
        if verdict.assumed and (verdict.target, "assumed") not in accepted:
            return Finding(name, verdict.target, "warning", f"{name} on {verdict.target}: equivalent, but only under "
                           "an assumed DST rule (the platform documents none)", verdict)
        return Finding(name, verdict.target, "ok", f"{name} on {verdict.target}: equivalent", verdict)
    open_kinds = [d for d in verdict.divergences if (verdict.target, d.kind) not in accepted]
    if not open_kinds:
        return Finding(name, verdict.target, "ok", f"{name} on {verdict.target}: diverges as accepted "
                       f"({', '.join(sorted({d.kind for d in verdict.divergences}))})", verdict)
    first = open_kinds[0]
    if first.kind == "translation-bug":  # nothing to accept: Lockstep itself is wrong
        return Finding(name, verdict.target, "error", f"{name} on {verdict.target} ({verdict.platform}): "
                       f"{first.detail}", verdict)
    where = f" first at {first.canonical[0] if first.canonical else first.actual[0]}" \
        if first.canonical or first.actual else ""
    return Finding(name, verdict.target, "error", f"{name} on {verdict.target} ({verdict.platform}): {first.kind}"
                   f"{where} — {first.detail}{_then(advice(verdict.target, first.kind))}", verdict)


def _then(advice_text: str) -> str:
    return f"; {advice_text}" if advice_text else ""


def advice(target: str, kind: str) -> str:
    """Return what to do about a divergence: accept it with a reason only where the model allows that."""
    if kind == "translation-bug":
        return "this is a bug in Lockstep's translation: report it, and drop this target until it is fixed"
    if kind in DIVERGENCE_KINDS:
        return f"fix the schedule, or accept it with divergence(target='{target}', kind='{kind}', reason=...)"
    if kind == "refused":
        return ""  # the refusal's own reason already says what to do
    return f"change the schedule so {target} can express it, or drop {target} from this workflow's targets"


def check_all(workflows: Sequence[Workflow], stacks: Sequence[StackConfig], horizon_days: int = 400,
              start: dt.datetime | None = None,
              skip: Collection[tuple[str, str]] = ()) -> tuple[Finding, ...]:
    """Check every workflow under every stack (or under defaults when the repo has no stack).

    `skip` holds (workflow, stack) pairs the loader found unusable (e.g. a host the stack lacks): they are not checked.
    """
    found: list[Finding] = []
    options: list[StackConfig | None] = list(stacks) or [None]
    for stack in options:
        for wf in workflows:
            if stack is not None and (wf.name, stack.name) in skip:
                continue
            found.extend(dataclasses.replace(f, stack=stack.name if stack else "")
                         for f in check_workflow(wf, stack, horizon_days, start))
    return tuple(found)
