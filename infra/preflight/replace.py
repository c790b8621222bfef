"""Which changes the real engine would carry out as a replacement, and the property that forces each one.

What decides a replacement in Pulumi, and what of it can be known offline:
  * the resource option `replaceOnChanges` (the engine's applyReplaceOnChanges): captured with every registration;
  * a changed provider reference whose configuration differs (the engine's providerChanged asks the new provider's
    DiffConfig): the program names one provider per region / location / project, so a move shows as a new provider
    whose `region`, `location` or `project` differs; a resource cannot move there in place on any cloud;
  * the provider's own Diff: for the dynamic on-prem resource that is our own code, so it is run here; for the
    AWS, Azure and GCP providers it is in the provider plugin, and their SDK packages ship no replace-on-change
    data (no `replace_on_changes` in any generated resource, no schema file): docs/gate.md says what follows.
"""

from __future__ import annotations

import base64
import importlib
import json
import pickletools
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi.dynamic import ResourceProvider

from infra.preflight import values

TRUSTED = "infra."  # the dynamic providers the preview will run: this repository's own


def reasons(old: Any, new: Any, keys: Sequence[str], old_providers: Mapping[str, Any],
            new_providers: Mapping[str, Any]) -> tuple[str, ...]:
    """Return why `old` -> `new` is a replacement (empty when it is not); `old`/`new` are plan Resources."""
    out = list(_provider(old, new, old_providers, new_providers))
    changed = [p for p, _, _ in values.changed(values.decode(old.values), values.decode(new.values))] if keys else []
    for path in (p for p in new.replace_on.split(",") if p):
        hit = [leaf for leaf in changed if _within(leaf, path)]
        if hit:
            out.append(f"replaceOnChanges {path}: {', '.join(hit[:3])}{' …' if len(hit) > 3 else ''} changed")
    if keys and old.dynamic and new.dynamic:
        out.extend(dynamic_replaces(old.dynamic, new.dynamic))
    return tuple(out)


def _within(leaf: str, path: str) -> bool:
    return path == "*" or leaf == path or leaf.startswith((f"{path}.", f"{path}["))


def _provider(old: Any, new: Any, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    if not (old.provider and new.provider) or old.provider == new.provider:
        return []
    before, after = olds.get(old.provider), news.get(new.provider)
    if before is None or after is None:
        return [f"provider {_name(old.provider)} → {_name(new.provider)}"]
    moved = values.changed(values.decode(before.values), values.decode(after.values))
    if not moved:
        return []  # the same configuration under another name: DiffConfig finds nothing to replace
    what = ", ".join(f"{p} {a or '(unset)'} → {b or '(unset)'}" for p, a, b in moved)
    return [f"provider {_name(old.provider)} → {_name(new.provider)} ({what})"]


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def dynamic_state(inputs: Mapping[str, Any], root: str) -> str:
    """Return what the dynamic provider's diff needs later: its serialized reference and the plain inputs."""
    return json.dumps({"provider": str(inputs.get("__provider", "")), "inputs": values.plain(dict(inputs), root)},
                      sort_keys=True, separators=(",", ":"))


def dynamic_replaces(old: str, new: str) -> list[str]:
    """Run the dynamic provider's own diff on old and new inputs; return why it replaces (empty: it does not)."""
    before, after = json.loads(old), json.loads(new)
    provider = _provider_object(after["provider"])
    if provider is None:
        return []
    try:
        result = provider.diff("", before["inputs"], after["inputs"])
    except Exception as exc:  # the provider's own diff failed on these inputs: the engine would stop here too
        return [f"the provider's diff, which failed offline ({type(exc).__name__}: {exc}): a possible replace"]
    return [f"the provider's diff replaces on {k}" for k in result.replaces or ()]


def _provider_object(serialized: str) -> Any:
    """Return an instance of the provider class the serialized provider names, without unpickling anything.

    pulumi.dynamic serializes the provider by reference (module and class name). Reading that reference with
    pickletools and importing only this repository's own modules means no data from a cache file is ever executed.
    """
    try:
        ops = list(pickletools.genops(base64.b64decode(serialized)))
    except Exception:  # not a pickle this code understands: no diff, the update stands
        return None
    texts: list[str] = []
    for op, arg, _ in ops:
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            texts.append(str(arg))
        if op.name in ("STACK_GLOBAL", "GLOBAL"):
            module, name = texts[-2:] if op.name == "STACK_GLOBAL" else str(arg).split(" ", 1)
            if not module.startswith(TRUSTED):
                return None
            cls = getattr(importlib.import_module(module), name, None)
            if isinstance(cls, type) and issubclass(cls, ResourceProvider):
                return object.__new__(cls)
            return None
    return None
