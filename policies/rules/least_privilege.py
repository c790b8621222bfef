"""Identities get the actions they need: no '*' actions, no owner/editor/contributor roles."""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from policies.lib import SOC2_ACCESS, Report, fail_closed, is_gcp_iam_grant, report_each

AWS_POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
AWS_BROAD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
GCP_PRIMITIVE = ("roles/owner", "roles/editor")
AZURE_BROAD = {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner", "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
               "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator"}


def _wildcards(document: Any) -> list[str]:
    """Return every wildcard action an IAM policy document allows."""
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    out = []
    for st in statements if isinstance(statements, list) else [statements]:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") == "Allow" and "NotAction" in st:
            out.append("NotAction (allows everything not listed)")
        out += [a for a in actions if st.get("Effect") == "Allow" and (a == "*" or a.endswith(":*"))]
    return out


def _findings(t: str, p: Any) -> list[str]:
    if t in AWS_POLICY_TYPES:
        return [f"allows action {a!r}" for a in _wildcards(p.get("policy") or "{}")]
    if t == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        arn = str(p.get("policyArn") or "")
        return [f"attaches {arn}"] if arn.rsplit("/", 1)[-1] in AWS_BROAD_MANAGED else []
    if is_gcp_iam_grant(t):
        return [f"grants primitive role {p.get('role')}"] if p.get("role") in GCP_PRIMITIVE else []
    if t == "gcp:projects/iAMCustomRole:IAMCustomRole":
        return [f"includes permission {x!r}" for x in p.get("permissions") or [] if "*" in x]
    if t == "azure-native:authorization:RoleAssignment":
        role = str(p.get("roleDefinitionId") or "").rsplit("/", 1)[-1]
        return [f"assigns the built-in {AZURE_BROAD[role]} role"] if role in AZURE_BROAD else []
    return []


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report wildcard actions and broad built-in roles."""
    report_each(args, report, "access", _findings(args.resource_type, args.props),
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
