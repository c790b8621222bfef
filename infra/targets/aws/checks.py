"""What an AWS resource of a workflow must satisfy: nothing public, least privilege, code by digest. SDK-free."""

from __future__ import annotations

import json
from typing import Any

POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")
BROAD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
FUNCTION = "aws:lambda/function:Function"


def public_access(t: str, p: Any) -> list[str]:
    """Return what makes this resource public, one phrase per finding."""
    if t == "aws:lambda/permission:Permission":
        out = [f"grants {p.get('action')} to principal '*'"] if p.get("principal") == "*" else []
        return out + ([] if p.get("sourceArn") else ["has no source_arn, so any caller of the service may invoke"])
    if t == "aws:lambda/functionUrl:FunctionUrl" and p.get("authorizationType") == "NONE":
        return ["is a function URL with authorization_type NONE"]
    return []


def wildcards(document: Any) -> list[str]:
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


def privileges(t: str, p: Any) -> list[str]:
    """Return every over-broad grant of this resource."""
    if t in POLICY_TYPES:
        return [f"allows action {a!r}" for a in wildcards(p.get("policy") or "{}")]
    if t == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        arn = str(p.get("policyArn") or "")
        return [f"attaches {arn}"] if arn.rsplit("/", 1)[-1] in BROAD_MANAGED else []
    return []


def artifact(t: str, p: Any) -> tuple[str | None, list[str]]:
    """Return the code reference of a code-carrying resource (None for others) and what else is missing."""
    if t != FUNCTION:
        return None, []
    reference = str(p.get("imageUri") or p.get("s3Key") or asset_path(p.get("code")))
    missing = [] if p.get("sourceCodeHash") else ["has no source_code_hash — set it to the package's sha256 so a "
                                                   "changed package is always redeployed"]
    return reference, missing


def asset_path(value: Any) -> str:
    """Return the path or URI of an asset/archive input (pulumi-policy gives objects or dicts)."""
    if isinstance(value, dict):
        return str(value.get("path") or value.get("uri") or "")
    return str(getattr(value, "path", None) or getattr(value, "uri", None) or value or "")
