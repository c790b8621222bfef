"""TargetSpec: how a target folder describes itself to the registry (SDK-free; the component is imported on demand)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from infra.model import StackConfig, Workflow
from infra.targets.base import ComponentClass, Observed, ResourceChecks, ResourceFacts, Translation


@dataclass(frozen=True)
class TargetSpec:
    """One target's surface: names, translate, normalize, and a loader for its Pulumi component."""

    name: str
    title: str
    resources: ResourceFacts
    checks: ResourceChecks
    reserved_env: tuple[str, ...]
    translate: Callable[[Workflow, StackConfig], Translation[Any]]
    normalize: Callable[[Sequence[Observed]], Any]
    load_component: Callable[[], ComponentClass]
    # Desired attribute -> the type of the live resource it is read from (drift names that resource); may be empty.
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def component(self) -> ComponentClass:
        """Return the Pulumi component class (this imports the provider SDK)."""
        return self.load_component()
