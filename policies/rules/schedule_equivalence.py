"""The schedule fires at the same instants on every target, unless the workflow accepts a named divergence."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from infra.schedule.workflow_check import check_workflow
from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, Declared, Report, say, with_declared

SCOPE = "workflow"  # judges each deployed workflow on its own resources; the preview caches it per workflow


def check(args: Any, report: Report, model: Declared) -> None:
    """Report each target whose platform fires differently from the canonical schedule (not accepted)."""
    for wf in model.judged():  # judged from the declaration: a refused target has no resources to look at
        name = wf.name
        expected = model.expected_targets(wf)
        for finding in check_workflow(wf, model.stack):
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
