"""Per-target plan: which resources a change creates, replaces, updates or deletes, from two captures by URN.

"same" means the same as at the base revision: the offline plan compares two captures of the program, never what is
deployed (the real `pulumi preview` against the stack's state does that).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pulumi

from infra.preflight import replace, values
from infra.preflight.capture import Registration
from policies.lib import stamps_of, target_of

_TOP = re.compile(r"[.\[(]")  # where a leaf path leaves its top-level input key
OPS = ("create", "import", "replace", "update", "delete", "same")
ADOPT = "adopt"  # a dynamic resource's input its create alone reads (its provider's diff ignores it)
NAME_KEYS = {"name", "groupName"}  # an adopted child's physical names: the import record keeps the live ones


class Resource(NamedTuple):
    """What the plan and the reports need of one registration: identity, place, and a hash per input key.

    A NamedTuple with the key hashes in one string: a slice of these unpickles several times faster than dataclasses
    with dicts, which matters when a warm preview reads a thousand slices from the cache.
    """

    urn: str
    type: str
    name: str
    custom: bool
    target: str
    workflow: str
    fields: str  # "key=hash;key=hash", sorted by key
    stamped: bool = False
    provider: str = ""  # the provider resource's URN (a reference without its ID)
    values: str = ""  # values.encode() of the input leaves, secrets redacted: what old -> new shows
    replace_on: str = ""  # the replaceOnChanges option, comma-separated
    dynamic: str = ""  # a dynamic resource's provider reference and inputs, for its provider's own diff
    import_id: str = ""  # the live resource the import option adopts (infra/imports.py), "" for none

    def hashes(self) -> dict[str, str]:
        """Return the input key hashes as a mapping."""
        return dict(item.split("=", 1) for item in self.fields.split(";") if item)


@dataclass(frozen=True)
class Change:
    """One resource's fate: create, import (a live resource adopted), replace (with why), update (with the input
    keys that change), delete or same."""

    op: str
    resource: Resource
    keys: tuple[str, ...] = ()
    why: tuple[str, ...] = ()
    old: Resource | None = None
    # An import whose declared inputs differ from what adopt read live: (path, live, declared). Pulumi imports the
    # resource, then updates it to the declared inputs in the same `pulumi up`.
    live: tuple[tuple[str, str, str], ...] = ()

    def leaf_changes(self) -> list[tuple[str, str | None, str | None]]:
        """Return (path, old, new) of every input leaf that changes, secrets redacted."""
        before = values.decode(self.old.values) if self.old else {}
        after = values.decode(self.resource.values) if self.op != "delete" else {}
        return values.changed(before, after)


def _identity(value: Any) -> Any:
    """Return what identifies an asset or archive's content (its repr holds a memory address)."""
    if isinstance(value, (pulumi.FileArchive, pulumi.FileAsset, pulumi.RemoteArchive, pulumi.RemoteAsset)):
        return {type(value).__name__: str(value.path if hasattr(value, "path") else value.uri)}
    if isinstance(value, pulumi.StringAsset):
        return {"StringAsset": value.text}
    if isinstance(value, (pulumi.AssetArchive)):
        return {"AssetArchive": dict(value.assets)}
    return str(value)


def _digest(value: Any, root: str) -> str:
    text = json.dumps(value, sort_keys=True, default=_identity)
    return hashlib.sha256(text.replace(root, "<root>").encode()).hexdigest()[:16]


def summarize(reg: Registration, root: Path, workflow: str = "") -> Resource:
    """Return a registration's plan summary; the repo root is blanked so a base checkout elsewhere compares equal."""
    stamps = _stamps(reg)
    leaves = values.leaves(reg.inputs, str(root))
    dynamic = replace.dynamic_state(reg.inputs, str(root)) if reg.type.startswith("pulumi-python:dynamic") else ""
    return Resource(reg.urn, reg.type, reg.name, reg.custom, target_of(reg.type) or _component_target(reg.type),
                    stamps.get("lockstep-workflow") or workflow, _key_hashes(reg.inputs, leaves, str(root)),
                    bool(stamps), reg.provider.rsplit("::", 1)[0] if reg.provider else "", values.encode(leaves),
                    ",".join(reg.options.get("replaceOnChanges") or ()), dynamic,
                    str(reg.options.get("import") or "") or _adopts(reg))


def _adopts(reg: Registration) -> str:
    """Return the crontab line a dynamic on-prem resource adopts ("" for none): its create swaps the line for its
    block, which the plan shows as an import of that line, not the create of a second copy."""
    adopt = reg.inputs.get(ADOPT) if reg.type.startswith("pulumi-python:dynamic") else None
    return str(adopt.get("id") or "") if isinstance(adopt, dict) else ""


def _key_hashes(inputs: Mapping[str, Any], leaves: Mapping[str, str], root: str) -> str:
    """Return "key=hash;..." per top-level input key, hashed from its leaves (skipped keys from their value)."""
    by_key: dict[str, list[str]] = {}
    for path, text in leaves.items():
        by_key.setdefault(_TOP.split(path, 1)[0], []).append(f"{path}={text}")
    hashes = {k: hashlib.sha256("\n".join(v).encode()).hexdigest()[:16] for k, v in by_key.items()}
    hashes.update({k: _digest(inputs[k], root) for k in values.SKIP_KEYS if k in inputs})
    return ";".join(f"{k}={hashes[k]}" for k in sorted(hashes))


def _stamps(reg: Registration) -> Mapping[str, str]:
    try:
        return stamps_of(reg.type, reg.inputs) or {}
    except Exception:  # an unknown or odd stamp is the policies' business, not the plan's
        return {}


def _component_target(type_: str) -> str:
    if type_.startswith("pulumi:providers:"):
        return target_of(type_.rsplit(":", 1)[1] + ":") or "-"
    parts = type_.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "lockstep" and parts[1] != "index" else "-"


def diff(base: Iterable[Resource], head: Iterable[Resource]) -> list[Change]:
    """Return every resource's change from base to head, in head order then deletions."""
    base, head = list(base), list(head)
    before = {r.urn: r for r in base}
    old_providers = {r.urn: r for r in base if r.type.startswith("pulumi:providers:")}
    new_providers = {r.urn: r for r in head if r.type.startswith("pulumi:providers:")}
    out: list[Change] = []
    for r in head:
        old = before.pop(r.urn, None)
        if old is None:  # new to the stack: created, or adopted from a live resource by its import ID
            out.append(Change("import" if r.import_id else "create", r))
            continue
        if old == r:  # most of a warm preview: the very summary the base had (no key, provider or input differs)
            out.append(Change("same", r, (), (), old))
            continue
        a, b = old.hashes(), r.hashes()
        keys = tuple(sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k)
                            and not (k == ADOPT and r.dynamic))) if old.fields != r.fields else ()
        why = replace.reasons(old, r, keys, old_providers, new_providers) if r.custom else ()
        # Pulumi replaces the resource in the stack by the import (an adopted crontab line matters to a create only)
        if r.import_id and r.import_id != old.import_id and not r.dynamic:
            why = (*why, f"the import record adopts {r.import_id} in place of the resource the stack holds")
        elif old.import_id and not r.import_id and set(keys) & NAME_KEYS:
            why = (*why, f"the import record is gone, so {old.import_id} loses its live name, and a new name is a "
                         "new resource")
        op = "replace" if why else "update" if keys else "same"
        out.append(Change(op, r, keys, why, old))
    out.extend(Change("delete", r, old=r) for r in before.values())
    return out


def with_live(changes: Iterable[Change], live: Mapping[tuple[str, str], Mapping[str, object]]) -> list[Change]:
    """Return the changes with each import's declared-versus-live differences (by (target, logical name))."""
    out = []
    for c in changes:
        seen = live.get((c.resource.target, c.resource.name)) if c.op == "import" else None
        if seen:
            now = values.decode(c.resource.values)
            diffs = tuple((p, values.shown(v), now.get(p, "(unset)")) for p, v in sorted(seen.items())
                          if now.get(p) != values.shown(v))
            if diffs:
                c = Change("import", c.resource, tuple(sorted({_TOP.split(p, 1)[0] for p, _, _ in diffs})),
                           live=diffs)
        out.append(c)
    return out


def counts(changes: Iterable[Change]) -> dict[str, dict[str, int]]:
    """Return {target: {op: count}} over custom resources (components and providers are not deployed things)."""
    out: dict[str, dict[str, int]] = {}
    for c in changes:
        if c.resource.custom and not c.resource.type.startswith("pulumi:providers:"):
            out.setdefault(c.resource.target, dict.fromkeys(OPS, 0))[c.op] += 1
    return out


def columns(table: Mapping[str, Mapping[str, int]]) -> tuple[str, ...]:
    """Return the summary's columns: every op, but `import` only when some target imports something."""
    return tuple(op for op in OPS if op != "import" or any(row.get("import") for row in table.values()))
