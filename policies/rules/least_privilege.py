"""Identities get the actions they need: no '*' actions, no owner/editor/contributor roles (per target checks.py)."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from infra.targets.registry import TARGETS
from policies.lib import SOC2_ACCESS, Report, fail_closed, report_each, target_of


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report wildcard actions and broad built-in roles."""
    target = target_of(args.resource_type)
    if target is None:
        return
    report_each(args, report, "access", TARGETS[target].checks.privileges(args.resource_type, args.props),
                "grant only the named actions the workflow needs, on its own resources")


POLICY = ResourceValidationPolicy(
    name="least-privilege",
    description="No identity is granted '*' actions or an owner/editor/contributor role.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=SOC2_ACCESS,
    tags=["per-target", "security", "lockstep"],
    remediation_steps="List the exact actions (e.g. lambda:InvokeFunction) and scope them to the workflow's ARNs.",
)
