"""Registered inputs of one workflow's on-prem resource (or a host's manifest) -> the OnpremDesired they realise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
    return from_spec(plain_spec(spec), plain_spec(host), int(memory) if memory is not None else 0,
                     str(get(p, "bundle", "digest", default="")), stamps(get(p, "stamps")))
