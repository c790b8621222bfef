"""What the on-prem resource of a workflow must satisfy: its bundle addressed by digest. SDK-free.

Access on the host is the SSH user's and the runner's (docs/onprem.md); there are no IAM grants to judge.
"""

from __future__ import annotations

from typing import Any


def public_access(_t: str, _p: Any) -> list[str]:
    """Return nothing: an on-prem workflow has no network endpoint."""
    return []


def privileges(_t: str, _p: Any) -> list[str]:
    """Return nothing: an on-prem workflow grants no roles."""
    return []


def artifact(t: str, p: Any) -> tuple[str | None, list[str]]:
    """Return the bundle's content digest (the reference the host installs under)."""
    if t.endswith("lockstep-onprem:Workflow"):
        return str((p.get("bundle") or {}).get("digest") or ""), []
    return None, []
