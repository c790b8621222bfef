"""What an Azure resource of a workflow must satisfy: nothing public, least privilege, code by digest. SDK-free."""

from __future__ import annotations

from typing import Any

BROAD_ROLES = {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner", "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
               "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator"}


def public_access(t: str, p: Any) -> list[str]:
    """Return what makes this resource public, one phrase per finding."""
    if t == "azure-native:storage:StorageAccount" and p.get("allowBlobPublicAccess") is not False:
        return ["does not set allow_blob_public_access=False"]
    if t == "azure-native:storage:BlobContainer" and p.get("publicAccess") not in (None, "None"):
        return [f"has public_access {p.get('publicAccess')!r}"]
    if t == "azure-native:web:WebApp" and p.get("httpsOnly") is not True:
        return ["does not set https_only=True"]
    return []


def privileges(t: str, p: Any) -> list[str]:
    """Return every over-broad grant of this resource."""
    if t == "azure-native:authorization:RoleAssignment":
        role = str(p.get("roleDefinitionId") or "").rsplit("/", 1)[-1]
        return [f"assigns the built-in {BROAD_ROLES[role]} role"] if role in BROAD_ROLES else []
    return []


def artifact(t: str, p: Any) -> tuple[str | None, list[str]]:
    """Return the code reference of a code-carrying resource (None for others) and what else is missing."""
    if t == "azure-native:storage:Blob":
        return str(p.get("blobName") or ""), []
    if t == "azure-native:web:WebApp":
        pairs = (p.get("siteConfig") or {}).get("appSettings") or []
        return next((str(x.get("value")) for x in pairs if x.get("name") == "WEBSITE_RUN_FROM_PACKAGE"), None), []
    return None, []
