"""Registered inputs of one workflow's on-prem resource (or a host's manifest) -> the OnpremDesired they realise."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from infra.targets.base import NormalizeError, Observed
from infra.targets.observed import get, one, stamps
from infra.targets.onprem.translate import OnpremDesired, from_spec, plain_spec

RESOURCE = "pulumi-python:dynamic/lockstep-onprem:Workflow"


def normalize(observed: Sequence[Observed]) -> OnpremDesired:
    """Return the desired state the observed on-prem resource of one workflow realises."""
    found = one(observed, RESOURCE)
    assert found is not None
    p = found.props
    host, spec = get(p, "host"), get(p, "canonical")
    if not isinstance(host, Mapping) or not isinstance(spec, Mapping):
        raise NormalizeError(f"{found.name} carries no host or canonical spec")
    memory = get(p, "memory_mb")
    desired = from_spec(plain_spec(spec), plain_spec(host), int(memory) if memory is not None else 0,
                        str(get(p, "bundle", "digest", default="")), stamps(get(p, "stamps")))
    installed = get(p, "installed")
    return _as_installed(desired, installed) if isinstance(installed, Mapping) else desired


def _as_installed(d: OnpremDesired, installed: Mapping[str, object]) -> OnpremDesired:
    """Return the desired state a host really runs, where a live read found its schedule or version edited."""
    changes: dict[str, Any] = {}
    if installed.get("drift"):
        lines, strays = (_texts(installed.get(k)) for k in ("lines", "strays"))
        times = [" ".join(x.split()[:5]) for x in lines] if d.scheduler == "cron" else lines
        changes["schedule"] = "; ".join(times + [f"stray: {x}" for x in strays]) or "(no schedule installed)"
    if installed.get("current_ok") is False:
        changes["code_digest"] = f"{d.code_digest} (but the active version is not the manifest's)"
    return dataclasses.replace(d, **changes) if changes else d


def _texts(value: object) -> list[str]:
    return [str(x) for x in value] if isinstance(value, (list, tuple)) else []
