"""The canonical model: what a workflow is, what a stack is. Every later stage reads only these types.

Canonical fields are identical on every target and make up the spec digest; local fields may differ per target
and are listed in LOCAL_FIELDS. A target override of anything else is an error (see infra.validate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, TypeVar

SCHEMA_VERSIONS = (1,)
TARGETS = ("aws", "azure", "gcp", "onprem")
TargetName = Literal["aws", "azure", "gcp", "onprem"]

# Local fields each target may override, with what they mean. `memory_mb` defaults to function.memory_mb.
LOCAL_FIELDS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "aws": MappingProxyType({"region": "AWS region for this workflow", "memory_mb": "Lambda memory"}),
    "azure": MappingProxyType({"location": "Azure location", "plan": "hosting plan (consumption, "
                               "flex-consumption, premium, dedicated)"}),
    "gcp": MappingProxyType({"region": "GCP region", "memory_mb": "Cloud Functions memory"}),
    "onprem": MappingProxyType({"host": "name of a host in the stack's onprem.hosts, or {stack: host name}; with a "
                                "mapping the workflow runs on-prem only in the stacks it names", "memory_mb":
                                "address-space limit for the runner"}),
})
AZURE_PLANS = ("consumption", "flex-consumption", "premium", "dedicated")
# Schedule divergences a workflow may accept with a written reason. A refused translation, a start/end the platform
# cannot express and a translation bug are not among them: those must be fixed, never accepted.
DIVERGENCE_KINDS = ("dst-gap", "dst-overlap", "day-rule", "unsupported-zone", "assumed")
RUNTIMES = ("python3.10", "python3.11", "python3.12")


V = TypeVar("V")


def frozen_map(values: Mapping[str, V] | None = None) -> Mapping[str, V]:
    """Return a read-only copy of a mapping."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Schedule:
    """When the workflow fires: a canonical cron expression or a rate, in an IANA zone."""

    kind: Literal["cron", "rate"]
    expression: str
    timezone: str = "UTC"
    start: dt.datetime | None = None
    end: dt.datetime | None = None


@dataclass(frozen=True)
class SecretRef:
    """A reference to a secret held by each target's secret store; never the value."""

    name: str


@dataclass(frozen=True)
class Function:
    """The code a workflow runs. `source` is repo-relative, POSIX-style."""

    source: str
    entry: str
    runtime: str
    memory_mb: int
    env: Mapping[str, str] = field(default_factory=frozen_map)
    secrets: Mapping[str, SecretRef] = field(default_factory=frozen_map)

    @property
    def module(self) -> str:
        """Return the entry point's module name (`main` in `main.handler`)."""
        return self.entry.rpartition(".")[0]

    @property
    def handler(self) -> str:
        """Return the entry point's function name (`handler` in `main.handler`)."""
        return self.entry.rpartition(".")[2]


@dataclass(frozen=True)
class Retry:
    """How a failed run is retried. `attempts` counts every try, the first included."""

    attempts: int = 1
    backoff: Literal["exponential", "fixed"] = "exponential"
    delay_s: int = 60
    max_delay_s: int = 300
    max_event_age_s: int = 3600


@dataclass(frozen=True)
class Notification:
    """Where a failure is reported: an e-mail address or a webhook whose URL is a secret reference."""

    kind: Literal["email", "webhook"]
    address: str = ""
    secret: SecretRef | None = None

    def describe(self) -> str:
        """Return a display form that never contains a secret."""
        if self.kind == "email":
            return f"mailto:{self.address}"
        return f"webhook:secret:{self.secret.name if self.secret else ''}"


@dataclass(frozen=True)
class AcceptedDivergence:
    """A reviewed, written-down exception: this target may fire differently, for this reason."""

    target: str
    kind: str
    reason: str


@dataclass(frozen=True)
class TargetSpec:
    """A target the workflow deploys to, with its local overrides."""

    name: str
    overrides: Mapping[str, object] = field(default_factory=frozen_map)


@dataclass(frozen=True)
class Location:
    """Where something was declared, for messages and annotations."""

    path: str
    line: int


@dataclass(frozen=True)
class Workflow:
    """One validated workflow: canonical fields, targets, and its digests."""

    name: str
    schema: int
    description: str
    owner: str
    schedule: Schedule
    function: Function
    retry: Retry
    timeout_s: int
    allow_overlap: bool
    notify: tuple[Notification, ...]
    targets: tuple[TargetSpec, ...]
    accepted_divergences: tuple[AcceptedDivergence, ...]
    location: Location
    field_lines: Mapping[str, int]
    code_digest: str
    digest: str

    def target(self, name: str) -> TargetSpec | None:
        """Return the named target, or None when the workflow does not deploy there."""
        return next((t for t in self.targets if t.name == name), None)

    def target_names(self) -> tuple[str, ...]:
        """Return the names of the workflow's targets, in canonical order."""
        return tuple(t.name for t in self.targets)

    def local(self, target: str, name: str) -> object:
        """Return a local field for a target: its override, else the workflow default, else None."""
        spec = self.target(target)
        if spec is not None and name in spec.overrides:
            return spec.overrides[name]
        return self.function.memory_mb if name == "memory_mb" else None

    def host_in(self, stack: str) -> str | None:
        """Return the on-prem host this workflow names for a stack (a name, or a {stack: host} mapping), else None."""
        host = self.local("onprem", "host")
        if isinstance(host, Mapping):
            found = host.get(stack)
            return str(found) if found is not None else None
        return str(host) if host is not None else None

    def targets_in(self, stack: StackConfig) -> tuple[str, ...]:
        """Return the targets this workflow deploys to in a stack: declared, enabled there, and (on-prem) mapped."""
        mapped = not isinstance(self.local("onprem", "host"), Mapping) or self.host_in(stack.name) is not None
        return tuple(t for t in self.target_names() if t in stack.enabled() and (t != "onprem" or mapped))

    def line_of(self, dotted: str) -> int:
        """Return the line declaring a field (or its closest declared parent), else the workflow's line."""
        parts = dotted.split(".")
        while parts:
            line = self.field_lines.get(".".join(parts))
            if line:
                return line
            parts.pop()
        return self.location.line


@dataclass(frozen=True)
class AwsStack:
    """AWS settings of a stack."""

    region: str


@dataclass(frozen=True)
class AzureStack:
    """Azure settings of a stack; the plan decides what the target can honour."""

    location: str
    plan: str
    os: Literal["linux", "windows"]
    resource_group: str | None = None
    key_vault: str | None = None


@dataclass(frozen=True)
class GcpStack:
    """GCP settings of a stack."""

    project: str
    region: str


@dataclass(frozen=True)
class OnpremHost:
    """A host of the server room, with its SSH host key pinned."""

    name: str
    address: str
    port: int
    user: str
    host_key: str
    scheduler: Literal["cron", "systemd"]
    timezone: str
    base_dir: str = "/var/lib/lockstep"


@dataclass(frozen=True)
class OnpremStack:
    """On-prem settings: the hosts, and the environment variable naming the deploy key's path."""

    hosts: tuple[OnpremHost, ...]
    private_key_env: str = "LOCKSTEP_ONPREM_KEY"

    def host(self, name: str) -> OnpremHost | None:
        """Return the host with this name, or None."""
        return next((h for h in self.hosts if h.name == name), None)


@dataclass(frozen=True)
class StackConfig:
    """One stack (an environment): its enabled targets and its rollout waves."""

    name: str
    path: str
    aws: AwsStack | None
    azure: AzureStack | None
    gcp: GcpStack | None
    onprem: OnpremStack | None
    waves: tuple[tuple[str, ...], ...]
    switched_off: tuple[tuple[str, str], ...] = ()  # (target, why) for each target acknowledged as off
    off_lines: tuple[tuple[str, int, str], ...] = field(default=(), compare=False, repr=False)  # where, and how

    def enabled(self) -> tuple[str, ...]:
        """Return the enabled targets in canonical order."""
        return tuple(t for t in TARGETS if getattr(self, t) is not None)
