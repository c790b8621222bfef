"""Reading observed resources: find one by type, read nested properties, coerce engine numbers. SDK-free.

Registered inputs arrive as protobuf Struct values (every number a float), and pulumi-policy wraps them in proxies
that raise on unknown values; these helpers accept both, so one normalizer serves the preview, a saved plan and a
live reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from infra.stamps import IDENTITY_KEYS
from infra.targets.base import NormalizeError, Observed


def one(observed: Sequence[Observed], type_: str, *, required: bool = True) -> Observed | None:
    """Return the single observed resource of a type (None when absent and not required)."""
    found = [o for o in observed if o.type == type_]
    if len(found) > 1:
        raise NormalizeError(f"{len(found)} resources of type {type_} ({', '.join(o.name for o in found)}); "
                             "expected one per workflow")
    if not found and required:
        raise NormalizeError(f"no resource of type {type_}")
    return found[0] if found else None


def every(observed: Sequence[Observed], type_: str) -> list[Observed]:
    """Return every observed resource of a type, sorted by name."""
    return sorted((o for o in observed if o.type == type_), key=lambda o: o.name)


def get(props: Mapping[str, Any] | None, *path: str, default: Any = None) -> Any:
    """Return a nested property, or `default` when any key on the way is missing or null."""
    value: Any = props
    for key in path:
        if not isinstance(value, Mapping) or key not in value or value[key] is None:
            return default
        value = value[key]
    return value


def integer(value: Any) -> int | None:
    """Return an engine number (a float in protobuf) as an int; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise NormalizeError(f"{value!r} is not a whole number")
    return int(value)


def text(value: Any) -> str | None:
    """Return a property as a string; None stays None."""
    return None if value is None else str(value)


def strings(value: Any) -> dict[str, str]:
    """Return a mapping property as a plain str -> str dict (empty when absent)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise NormalizeError(f"{value!r} is not a mapping")
    return {str(k): str(value[k]) for k in value}


def stamps(holder: Any) -> dict[str, str]:
    """Return the identity stamps of a tags/labels mapping (every stamp but the commit)."""
    return {k: v for k, v in strings(holder).items() if k in IDENTITY_KEYS}


def split_env(variables: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split environment variables into the user's and Lockstep's own (LOCKSTEP_*), both sorted."""
    user = {k: v for k, v in sorted(variables.items()) if not k.startswith("LOCKSTEP_")}
    own = {k: v for k, v in sorted(variables.items()) if k.startswith("LOCKSTEP_")}
    return user, own


def json_map(value: str | None) -> dict[str, str]:
    """Return a JSON object held in a string property (empty when absent)."""
    if not value:
        return {}
    try:
        found = json.loads(value)
    except ValueError as exc:
        raise NormalizeError(f"{value!r} is not JSON") from exc
    if not isinstance(found, dict):
        raise NormalizeError(f"{value!r} is not a JSON object")
    return {str(k): str(v) for k, v in sorted(found.items())}
