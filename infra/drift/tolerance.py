"""How much drift each canonical field tolerates: declared once here, overridable per stack in Pulumi.<stack>.yaml.

    config:
      lockstep:drift:
        tolerate: [notify]          # canonical fields whose drift is recorded as tolerated, never alerted
        warn: {memory: 25}          # a change within N percent is a warning; beyond it, drift
        never: [env]                # make a default-tolerated field strict again

Fields that decide *when* or *what* runs (schedule, zone, start/end, code, timeout, retries, runtime, entry,
the release stamps) can never be tolerated: a stack that tries gets an error naming the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from infra import fields as f
from infra.config import NAMESPACE, read_yaml
from infra.errors import SpecError, SpecInvalid

Level = Literal["drift", "warning", "tolerated"]
KEY = f"{NAMESPACE}:drift"
NEVER_TOLERATED = ("schedule", "timezone", "schedule.start", "schedule.end", "code", "timeout", "retry.attempts",
                   "retry.max_event_age", "runtime", "entry", "stamps", "region", "host", "spec")
DEFAULT_TOLERATED = ("description", "tags")   # not part of any Desired; listed so a stack can name them
DEFAULT_WARN_PERCENT: Mapping[str, float] = {"memory": 10.0}


@dataclass(frozen=True)
class Tolerance:
    """The effective per-field policy of one stack."""

    tolerated: frozenset[str] = frozenset(DEFAULT_TOLERATED)
    warn_percent: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WARN_PERCENT))

    def level(self, canonical: str, declared: object, live: object) -> Level:
        """Return how a difference on a canonical field is reported."""
        if canonical in self.tolerated:
            return "tolerated"
        limit = self.warn_percent.get(canonical)
        if limit is not None and _within(declared, live, limit):
            return "warning"
        return "drift"


def _within(declared: object, live: object, percent: float) -> bool:
    a, b = _number(declared), _number(live)
    if a is None or b is None or a == 0:
        return False
    return abs(b - a) / abs(a) * 100 <= percent


def _number(value: object) -> float | None:
    """Return a memory-like value as a number ("256Mi" -> 256, 512 -> 512), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        digits = value.rstrip("MiGBK")
        try:
            return float(digits) * (1024 if value.endswith(("Gi", "G")) else 1)
        except ValueError:
            return None
    return None


def for_stack(root: Path, stack: str) -> Tolerance:
    """Return the stack's tolerance: the defaults with its `lockstep:drift` overrides (raise SpecInvalid if wrong)."""
    rel = f"Pulumi.{stack}.yaml"
    data, lines = read_yaml(root / rel)
    config = data.get("config", {}) if isinstance(data, dict) else {}
    raw = config.get(KEY) if isinstance(config, dict) else None
    rep = f.Reporter(rel, {k.removeprefix("config."): v for k, v in lines.items()}, 1)
    if raw is None:
        return Tolerance()
    if not isinstance(raw, dict):
        rep.error(KEY, raw, "must be a mapping", f"write {KEY}: with tolerate:, warn: or never: under it")
        raise SpecInvalid(rep.errors)
    f.check_unknown(rep, f"{KEY}.", raw, ("tolerate", "warn", "never"))
    tolerated = set(DEFAULT_TOLERATED) | set(_names(rep, "tolerate", raw.get("tolerate", [])))
    tolerated -= set(_names(rep, "never", raw.get("never", [])))
    warn = dict(DEFAULT_WARN_PERCENT)
    warn.update(_percents(rep, raw.get("warn", {})))
    if rep.errors:
        raise SpecInvalid(rep.errors)
    return Tolerance(frozenset(tolerated), warn)


def _names(rep: f.Reporter, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        rep.error(f"{KEY}.{key}", value, "must be a list of canonical field names", "write e.g. [notify, env]")
        return []
    for name in value:
        if key == "tolerate" and name in NEVER_TOLERATED:
            rep.error(f"{KEY}.{key}", name, "can never tolerate drift (it decides when or what runs)",
                      f"remove {name!r}; tolerable fields are the others, e.g. notify, env, memory")
    return [v for v in value if not (key == "tolerate" and v in NEVER_TOLERATED)]


def _percents(rep: f.Reporter, value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        rep.error(f"{KEY}.warn", value, "must map a canonical field to a percentage", "write e.g. {memory: 25}")
        return {}
    out = {}
    for name, pct in value.items():
        if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100:
            rep.error(f"{KEY}.warn.{name}", pct, "is not a percentage between 0 and 100", "write e.g. 25")
        elif name in NEVER_TOLERATED:
            rep.error(f"{KEY}.warn.{name}", pct, "can never tolerate drift", f"remove {name!r} from warn")
        else:
            out[str(name)] = float(pct)
    return out


__all__ = ["Level", "SpecError", "Tolerance", "for_stack"]
