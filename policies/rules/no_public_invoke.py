"""Nothing a workflow deploys can be invoked or read by the public."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from policies.lib import SOC2_ACCESS, Report, fail_closed, is_gcp_iam_grant, report_each

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


def _findings(t: str, p: Any) -> list[str]:
    """Return what makes this resource public, one phrase per finding."""
    if t == "aws:lambda/permission:Permission":
        out = [f"grants {p.get('action')} to principal '*'"] if p.get("principal") == "*" else []
        return out + ([] if p.get("sourceArn") else ["has no source_arn, so any caller of the service may invoke"])
    if t == "aws:lambda/functionUrl:FunctionUrl" and p.get("authorizationType") == "NONE":
        return ["is a function URL with authorization_type NONE"]
    if is_gcp_iam_grant(t):
        members = [p.get("member")] if p.get("member") is not None else list(p.get("members") or [])
        return [f"grants {p.get('role')} to {m}" for m in members if m in PUBLIC_MEMBERS]
    if t == "azure-native:storage:StorageAccount" and p.get("allowBlobPublicAccess") is not False:
        return ["does not set allow_blob_public_access=False"]
    if t == "azure-native:storage:BlobContainer" and p.get("publicAccess") not in (None, "None"):
        return [f"has public_access {p.get('publicAccess')!r}"]
    if t == "azure-native:web:WebApp" and p.get("httpsOnly") is not True:
        return ["does not set https_only=True"]
    return []


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report public principals, unauthenticated endpoints and publicly readable storage."""
    report_each(args, report, "access", _findings(args.resource_type, args.props),
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
