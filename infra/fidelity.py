"""How each canonical field lands on each target: exact, approximate (and how it differs) or impossible (and why).

The verdicts come from each target's `translate(wf, stack)` (infra/targets/<t>/translate.py), which also yields the
desired state its component deploys, so what `lockstep explain` prints is what would be deployed. This module only
renders and collects them; it knows no platform.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.errors import SpecError, SpecInvalid
from infra.model import StackConfig, Workflow
from infra.targets.base import Level, RefusalKind, Translation, attributes
from infra.targets.registry import TARGETS

FIELDS = ("schedule", "timezone", "retry.attempts", "retry.backoff", "retry.max_event_age", "timeout",
          "allow_overlap", "notify", "memory", "secrets", "env", "runtime")
# Where a field is declared in a workflow file, for file:line in refusals and gate violations.
SOURCE_FIELD = {"timezone": "schedule", "memory": "function.memory_mb", "secrets": "function.secrets",
                "env": "function.env", "runtime": "function.runtime", "entry": "function.entry",
                "code": "function.source", "schedule.start": "schedule", "schedule.end": "schedule",
                "region": "targets", "host": "targets", "project": "targets", "stamps": "name", "spec": "name"}


@dataclass(frozen=True)
class Landing:
    """One canonical field on one target: the native value, its fidelity and why."""

    field: str
    target: str
    native: str
    fidelity: Level
    reason: str = ""
    fix: str = ""
    kind: RefusalKind | None = None

    def as_dict(self) -> dict[str, str | None]:
        """Return a JSON-ready mapping."""
        return {"field": self.field, "target": self.target, "native": self.native, "fidelity": self.fidelity,
                "reason": self.reason, "fix": self.fix, "kind": self.kind}


def translation(wf: Workflow, stack: StackConfig, target: str) -> Translation[object]:
    """Return a workflow's translation on one target (its desired state and each field's fidelity)."""
    return TARGETS[target].translate(wf, stack)


def show(value: object) -> str:
    """Render a native value for a table, in full."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "(none)"
    return "(none)" if value is None else str(value)


def native_of(t: Translation[object], field: str) -> str:
    """Return the native attributes that realise one canonical field, rendered `attribute=value; ...`."""
    parts = [f"{attr}={show(value)}" for canon, attr, value in attributes(t.desired)
             if canon == field or (field == "schedule" and canon.startswith("schedule."))]
    return "; ".join(parts) or "(no native setting)"


def assess(wf: Workflow, stack: StackConfig, target: str) -> list[Landing]:
    """Return how every canonical field of a workflow lands on one target."""
    t = translation(wf, stack, target)
    return [Landing(name, target, native_of(t, name), f.level, f.reason, f.fix, f.kind)
            for name in FIELDS for f in (t.fidelity[name],)]


def refusals(wf: Workflow, stack: StackConfig, target: str) -> list[SpecError]:
    """Return one SpecError per field that is impossible on the target."""
    errors, seen = [], set()
    for name, f in translation(wf, stack, target).fidelity.items():
        if f.level == "impossible" and f.reason not in seen:  # a zone refusal shows once
            seen.add(f.reason)
            source = SOURCE_FIELD.get(name, name)
            errors.append(SpecError(wf.location.path, wf.line_of(source), name, _value(wf, name),
                                    f"is impossible on {target} (workflow {wf.name!r}, stack {stack.name!r}): "
                                    f"{f.reason}", f.fix))
    return errors


def require(wf: Workflow, stack: StackConfig, target: str) -> None:
    """Raise SpecInvalid (a LockstepError) when a field cannot land on the target."""
    errors = refusals(wf, stack, target)
    if errors:
        raise SpecInvalid(errors)


def _value(wf: Workflow, name: str) -> object:
    values: dict[str, object] = {
        "schedule": wf.schedule.expression, "timezone": wf.schedule.timezone, "retry.attempts": wf.retry.attempts,
        "retry.backoff": wf.retry.backoff, "retry.max_event_age": wf.retry.max_event_age_s, "timeout": wf.timeout_s,
        "allow_overlap": wf.allow_overlap, "notify": [n.describe() for n in wf.notify],
        "memory": wf.function.memory_mb, "secrets": sorted(wf.function.secrets), "env": sorted(wf.function.env),
        "runtime": wf.function.runtime,
    }
    return values[name]
