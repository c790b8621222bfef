"""The schedule fires at the same instants on every target, unless the workflow accepts a named divergence."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from infra.schedule.workflow_check import check_workflow
from infra.targets.base import NormalizeError
from infra.targets.registry import TARGETS
from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, Declared, Report, registered, say, with_declared

SCOPE = "workflow"  # judges each deployed workflow on its own resources; the preview caches it per workflow


def check(args: Any, report: Report, model: Declared) -> None:
    """Report each target whose registered schedule fires differently from the canonical one (not accepted).

    The fire times are those of the native schedule each target's resources registered (normalized back through
    infra/targets/<t>/normalize.py); a target with nothing registered (refused, or missing) is judged on the
    declaration, so its refusal is still reported.
    """
    groups = registered(args.resources)
    for wf in model.judged():
        name = wf.name
        expected = model.expected_targets(wf)
        natives = {}
        for target in expected:
            observed = groups.get((name, target))
            try:
                natives[target] = TARGETS[target].normalize(observed).native_schedule() if observed else None
            except NormalizeError:
                natives[target] = None  # deployed-matches-declared reports what cannot be read back
        for finding in check_workflow(wf, model.stack, registered={t: n for t, n in natives.items() if n}):
            if finding.level == "error" and finding.target in expected:
                # infra.schedule.workflow_check's message already says how to fix it or accept it.
                report(say(finding.target, name, "schedule", finding.message))


POLICY = StackValidationPolicy(
    name="schedule-equivalence",
    description="A workflow's schedule fires at the same instants on every target it declares.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["cross-target", "schedule", "lockstep"],
    remediation_steps="Use a schedule every target can express, drop the target, or accept a named divergence.",
)
