"""No two workflows run the same code on the same schedule on one target (the job would run twice)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from infra.model import Workflow
from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, Declared, Report, say, stamped, with_declared

SCOPE = "stack"  # reads only which (target, workflow) pairs are deployed: one stamped resource per pair suffices


def _job(wf: Workflow) -> tuple[object, ...]:
    s = wf.schedule
    # The canonical expression is normalised by the loader (whitespace); cron names and numbers are compared as
    # written, which the loader's own duplicate check (infra.loader._overlaps) refines for the repo it loads.
    return (s.kind, s.expression, s.timezone, s.start, s.end, wf.code_digest, wf.function.entry)


def contenders(workflows: Iterable[Workflow]) -> set[str]:
    """Return the workflows that share their job with another one: the only ones this rule can report or compare."""
    by_job: dict[tuple[object, ...], list[str]] = {}
    for wf in workflows:
        by_job.setdefault(_job(wf), []).append(wf.name)
    return {name for names in by_job.values() if len(names) > 1 for name in names}


def check(args: Any, report: Report, model: Declared) -> None:
    """Report every pair of deployed workflows on one target with the same schedule, code and entry point."""
    on_target: dict[str, set[str]] = {}
    for _resource, st in stamped(args.resources):
        on_target.setdefault(st.get("lockstep-target", "?"), set()).add(st.get("lockstep-workflow", ""))
    for target, names in sorted(on_target.items()):
        first: dict[tuple[object, ...], str] = {}
        for name in sorted(n for n in names if n in model.workflows):
            wf = model.workflows[name]
            other = first.setdefault(_job(wf), name)
            if other != name:
                report(say(target, name, "schedule", f"overlaps workflow {other!r}: same schedule "
                           f"{wf.schedule.expression!r} ({wf.schedule.timezone}) and the same code, so the job runs "
                           f"twice at every instant — remove one, or change what {name!r} runs"))


POLICY = StackValidationPolicy(
    name="no-overlapping-workflows",
    description="No two workflows run the same code on the same schedule on one target.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.MEDIUM,
    framework=SOC2_CHANGE,
    tags=["cross-target", "lockstep"],
    remediation_steps="Remove the duplicate workflow, or give it its own code or schedule.",
)
