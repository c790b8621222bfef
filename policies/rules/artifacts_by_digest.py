"""Function code is addressed by its content digest, never by a mutable name or tag."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from infra.targets.registry import TARGETS
from policies.lib import SHA256_RE, SOC2_CHANGE, Report, fail_closed, say, target_of, workflow_of


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report code artifacts whose reference carries no sha256 digest (and a Lambda without source_code_hash)."""
    target = target_of(args.resource_type)
    if target is None:
        return
    reference, missing = TARGETS[target].checks.artifact(args.resource_type, args.props)
    if reference is None:
        return
    workflow = workflow_of(args)
    if not SHA256_RE.search(reference) and "@sha256:" not in reference:
        report(say(target, workflow, "function", f"{args.name} deploys {reference!r}, which is not addressed by a "
                   "sha256 content digest — publish the package under its digest (infra.bundle)"))
    for problem in missing:
        report(say(target, workflow, "function", f"{args.name} {problem}"))


POLICY = ResourceValidationPolicy(
    name="artifacts-by-digest",
    description="Function packages are addressed by their sha256 content digest.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["per-target", "supply-chain", "lockstep"],
    remediation_steps="Build packages with infra.bundle and reference them by their digest-named object.",
)
