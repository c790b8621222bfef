"""Nothing a workflow deploys can be invoked or read by the public (each target's checks.py says what is public)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from infra.targets.registry import TARGETS
from policies.lib import SOC2_ACCESS, Report, fail_closed, report_each, target_of


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report public principals, unauthenticated endpoints and publicly readable storage."""
    target = target_of(args.resource_type)
    if target is None:
        return
    report_each(args, report, "access", TARGETS[target].checks.public_access(args.resource_type, args.props),
                "only the platform's scheduler, through its own identity, may invoke a workflow")


POLICY = ResourceValidationPolicy(
    name="no-public-invoke",
    description="No workflow resource is publicly invocable or readable.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=SOC2_ACCESS,
    tags=["per-target", "security", "lockstep"],
    remediation_steps="Grant invoke to the scheduler's identity only, and keep storage private.",
)
