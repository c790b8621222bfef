"""The vocabulary every target shares: the build Context, fidelity, typed desired state, observed resources, Target.

A target turns a workflow into its `Desired` state (`translate`), deploys exactly that (`component`), and turns what
was registered with the engine, or what its platform reports, back into the same `Desired` type (`normalize`). The
gate, verification and drift all compare two `Desired` values field by field with `differences`. Nothing here
imports a provider SDK: `lockstep validate`, `explain` and the policy pack use these types without loading one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from infra.imports import NONE, Imports, LiveChild
from infra.model import StackConfig, Workflow

if TYPE_CHECKING:
    import pulumi

Level = Literal["exact", "approximate", "impossible"]
# Why a field is impossible on a target: a documented platform limit, a feature the platform lacks, a setting the
# stack must provide, a name the platform reserves, or a schedule the platform cannot express.
RefusalKind = Literal["limit", "unsupported", "stack-config", "reserved-name", "schedule"]


@dataclass(frozen=True)
class Context:
    """The build context of one stack run: shared by every component of that run, never mutated."""

    stack: StackConfig
    root: Path
    commit: str
    epoch: int = 0  # the on-prem fencing token the rollout holds; 0 for previews
    # The workflow's live children to adopt, per target (its import record, infra/imports.py).
    imports: Imports = field(default_factory=lambda: NONE)

    def live(self, target: str) -> Mapping[str, LiveChild]:
        """Return the children of a target that exist live and are adopted with Pulumi's import option."""
        return self.imports.get(target) or {}


@dataclass(frozen=True)
class Fidelity:
    """How one canonical field lands on a target: exact, approximate (with the difference) or impossible (why)."""

    level: Level = "exact"
    reason: str = ""
    kind: RefusalKind | None = None  # set exactly when level == "impossible"
    fix: str = ""

    def __post_init__(self) -> None:
        if (self.level == "impossible") != (self.kind is not None):
            raise ValueError(f"fidelity {self.level!r} with refusal kind {self.kind!r}: only impossible has a kind")


EXACT = Fidelity()


def approximate(reason: str) -> Fidelity:
    """Return an approximate landing that states how it differs."""
    return Fidelity("approximate", reason)


def impossible(kind: RefusalKind, reason: str, fix: str) -> Fidelity:
    """Return an impossible landing with its kind, its reason and what to do instead."""
    return Fidelity("impossible", reason, kind, fix)


def native(canonical: str, *, compared: bool = True, **kw: Any) -> Any:
    """Declare a Desired attribute and the canonical field it realises (for messages, file:line and explain).

    `compared=False` marks a carrier (e.g. the whole spec a runner receives) that other attributes already judge.
    """
    return field(metadata={"canonical": canonical, "compared": compared}, **kw)


D = TypeVar("D")


@dataclass(frozen=True)
class Translation(Generic[D]):
    """A workflow on one target: the desired state the component deploys, and each canonical field's fidelity."""

    target: str
    desired: D
    fidelity: Mapping[str, Fidelity]

    def refused(self) -> dict[str, Fidelity]:
        """Return the impossible fields."""
        return {k: v for k, v in self.fidelity.items() if v.level == "impossible"}


@dataclass(frozen=True)
class Observed:
    """One resource as the engine received it (inputs) or as a live reader mapped it: type token, name, properties.

    Properties use the Pulumi provider's camelCase names, so registered inputs, a saved plan's goals and a live
    reader's output all normalize through the same code.
    """

    type: str
    name: str
    props: Mapping[str, Any]


class NormalizeError(Exception):
    """What was observed cannot be read back as this target's desired state (a resource or property is missing)."""


@dataclass(frozen=True)
class Difference:
    """One attribute where two desired states differ."""

    canonical: str   # the canonical field it realises ("timeout", "schedule", ...)
    attribute: str   # the Desired attribute ("timeout_s", "schedule_expression", ...)
    declared: object
    observed: object


def differences(declared: object, observed: object) -> list[Difference]:
    """Return every attribute of two desired states of the same type that differs, in declaration order."""
    if type(declared) is not type(observed) or not dataclasses.is_dataclass(declared):
        raise TypeError(f"cannot compare {type(declared).__name__} with {type(observed).__name__}")
    out = []
    for f in dataclasses.fields(declared):
        if not f.metadata.get("compared", True):
            continue
        a, b = getattr(declared, f.name), getattr(observed, f.name)
        if _plain(a) != _plain(b):
            out.append(Difference(str(f.metadata.get("canonical", f.name)), f.name, _plain(a), _plain(b)))
    return out


def attributes(desired: object) -> list[tuple[str, str, object]]:
    """Return (canonical field, attribute, value) for every attribute of a desired state."""
    assert dataclasses.is_dataclass(desired)
    return [(str(f.metadata.get("canonical", f.name)), f.name, _plain(getattr(desired, f.name)))
            for f in dataclasses.fields(desired) if f.metadata.get("compared", True)]


def _plain(value: object) -> object:
    """Return a value in a comparable, JSON-ready form (mappings become dicts, sequences tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(_plain(v) for v in value)
    return value


class ComponentClass(Protocol):
    """A target's Pulumi component: `Workflow(name, wf, ctx, opts)`, built from the workflow's desired state."""

    def __call__(self, name: str, wf: Workflow, ctx: Context,
                 opts: pulumi.ResourceOptions | None = None) -> pulumi.ComponentResource:
        """Build the component and its children."""
        ...

    def provider_key(self, d: Any) -> tuple[str, str] | None:
        """Return what identifies the explicit provider a desired state needs, or None for none."""
        ...

    def new_provider(self, name: str, d: Any) -> pulumi.ProviderResource:
        """Return a new explicit provider for a desired state."""
        ...


@dataclass(frozen=True)
class ResourceFacts:
    """What the gate must know of a target's resource types: how to recognise them and where their stamps are."""

    type_prefix: str                       # a type token's prefix ("aws:"), or the one type of the target
    stamp_field: str                       # the property holding tags or labels
    stamp_field_overrides: Mapping[str, str] = field(default_factory=dict)  # type prefix -> another property
    untaggable: frozenset[str] = frozenset()  # types whose provider schema takes no tags or labels
    notify_type: str | None = None         # the resource that carries failure notifications

    def owns(self, resource_type: str) -> bool:
        """Tell whether a resource type belongs to this target."""
        return resource_type.startswith(self.type_prefix)

    def stamp_field_of(self, resource_type: str) -> str:
        """Return the property that holds a resource type's stamps."""
        return next((f for p, f in self.stamp_field_overrides.items() if resource_type.startswith(p)),
                    self.stamp_field)


Phrases = Callable[[str, Any], list[str]]


@dataclass(frozen=True)
class ResourceChecks:
    """What a target's resources must satisfy, per resource (infra/targets/<t>/checks.py); each returns findings."""

    public_access: Phrases                                        # what makes a resource public
    privileges: Phrases                                           # over-broad grants
    artifact: Callable[[str, Any], tuple[str | None, list[str]]]  # code reference (None: not code), and what's missing


class Target(Protocol):
    """What every target provides. Implementations live in infra/targets/<name>/ and are listed in registry.py."""

    @property
    def name(self) -> str:
        """Return the target's name in workflows and stacks ("aws", ...)."""
        ...

    @property
    def title(self) -> str:
        """Return how messages name the target ("AWS", "on-prem", ...)."""
        ...

    @property
    def resources(self) -> ResourceFacts:
        """Return what the gate must know of the target's resource types."""
        ...

    @property
    def checks(self) -> ResourceChecks:
        """Return the per-resource checks the policy pack runs on this target's resources."""
        ...

    @property
    def reserved_env(self) -> tuple[str, ...]:
        """Return the environment-variable prefixes the platform (or Lockstep) reserves."""
        ...

    def translate(self, wf: Workflow, stack: StackConfig) -> Translation[Any]:
        """Return the workflow's desired state on this target and each canonical field's fidelity."""
        ...

    @property
    def sources(self) -> Mapping[str, str]:
        """Return, per Desired attribute, the type of the resource `normalize` reads it from (empty: unknown)."""
        ...

    def normalize(self, observed: Sequence[Observed]) -> Any:
        """Return the desired state the observed resources of one workflow realise (raises NormalizeError)."""
        ...

    def component(self) -> ComponentClass:
        """Return the Pulumi component class (the only place that imports the provider SDK)."""
        ...
