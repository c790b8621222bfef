"""What a GCP resource of a workflow must satisfy: nothing public, least privilege, code by digest. SDK-free."""

from __future__ import annotations

from typing import Any

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
PRIMITIVE_ROLES = ("roles/owner", "roles/editor")


def is_iam_grant(resource_type: str) -> bool:
    """Tell whether a GCP resource type grants a role to members (IamMember / IamBinding, any casing)."""
    return resource_type.startswith("gcp:") and any(k in resource_type.lower() for k in ("iammember", "iambinding"))


def public_access(t: str, p: Any) -> list[str]:
    """Return what makes this resource public, one phrase per finding."""
    if is_iam_grant(t):
        members = [p.get("member")] if p.get("member") is not None else list(p.get("members") or [])
        return [f"grants {p.get('role')} to {m}" for m in members if m in PUBLIC_MEMBERS]
    return []


def privileges(t: str, p: Any) -> list[str]:
    """Return every over-broad grant of this resource."""
    if is_iam_grant(t):
        return [f"grants primitive role {p.get('role')}"] if p.get("role") in PRIMITIVE_ROLES else []
    if t == "gcp:projects/iAMCustomRole:IAMCustomRole":
        return [f"includes permission {x!r}" for x in p.get("permissions") or [] if "*" in x]
    return []


def artifact(t: str, p: Any) -> tuple[str | None, list[str]]:
    """Return the code reference of a code-carrying resource (None for others) and what else is missing."""
    if t == "gcp:storage/bucketObject:BucketObject":
        return str(p.get("name") or ""), []
    if t == "gcp:cloudfunctionsv2/function:Function":
        source = ((p.get("buildConfig") or {}).get("source") or {}).get("storageSource") or {}
        return str(source.get("object") or ""), []
    return None, []
