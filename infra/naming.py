"""Deterministic names: Pulumi logical names and each platform's physical names, never colliding.

Logical names are `f"{workflow}-{role}"`; workflow names are unique and URNs include the parent's type, so two
workflows never share a URN. Physical names also carry the stack (staging and prod may share an account) and, when a
platform's length or character rules force a cut, a hash of the full name, so two long names that share a prefix
still differ.
"""

from __future__ import annotations

import hashlib
import re

HASH_CHARS = 8


def logical(workflow: str, role: str) -> str:
    """Return the Pulumi logical name of a workflow's child resource."""
    return f"{workflow}-{role}"


def short_hash(*parts: str, chars: int = HASH_CHARS) -> str:
    """Return a short, stable hex hash of the parts."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:chars]


def physical(*parts: str, limit: int, sep: str = "-", lower: bool = True, allowed: str = r"a-z0-9-") -> str:
    """Join parts into a platform name of at most `limit` characters; cut with a hash suffix when too long."""
    full = sep.join(p for p in parts if p)
    text = full.lower() if lower else full
    text = re.sub(f"[^{allowed}]", "", text)
    if len(text) <= limit:
        return text
    suffix = short_hash(full)
    head = text[: limit - len(suffix) - len(sep)].rstrip(sep)
    return f"{head}{sep}{suffix}"


def compact(*parts: str, limit: int, prefix: str) -> str:
    """Return a lowercase alphanumeric name (e.g. an Azure storage account): prefix plus a hash of the parts."""
    return (prefix + hashlib.sha256("\0".join(parts).encode()).hexdigest())[:limit]
