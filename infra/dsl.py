"""What a workflow file imports: plain functions that record a declaration and where it was written.

Nothing here validates or raises: the loader validates every declaration at once, so a user sees every problem
in one run, each with its file and line.
"""

from __future__ import annotations

import contextvars
import sys
from dataclasses import dataclass, field

from infra.model import SecretRef

__all__ = ["Declaration", "cron", "divergence", "rate", "secret", "workflow"]


@dataclass(frozen=True)
class Declaration:
    """A call to one of the functions below: its kind, its arguments, and where it was made."""

    kind: str
    args: dict[str, object] = field(hash=False)
    path: str
    line: int

    def __repr__(self) -> str:
        shown = ", ".join(repr(v) if k in ("expression", "every") else f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.kind}({shown})"


_collector: contextvars.ContextVar[list[Declaration] | None] = contextvars.ContextVar("lockstep_decls", default=None)


def collect_into(target: list[Declaration]) -> contextvars.Token[list[Declaration] | None]:
    """Collect workflow declarations made from now on into `target` (used by the loader)."""
    return _collector.set(target)


def stop_collecting(token: contextvars.Token[list[Declaration] | None]) -> None:
    """Stop collecting (the counterpart of collect_into)."""
    _collector.reset(token)


def _declare(kind: str, args: dict[str, object]) -> Declaration:
    frame = sys._getframe(2)
    return Declaration(kind, args, frame.f_code.co_filename, frame.f_lineno)


def workflow(**fields: object) -> Declaration:
    """Declare a workflow: name, schema, description, owner, schedule, function, retry, timeout, ..."""
    decl = _declare("workflow", fields)
    collected = _collector.get()
    if collected is not None:
        collected.append(decl)
    return decl


def cron(expression: object = None, **options: object) -> Declaration:
    """Declare a cron schedule: `cron("0 2 * * *", tz="Europe/Berlin", start=..., end=...)`."""
    return _declare("cron", {"expression": expression, **options})


def rate(every: object = None, **options: object) -> Declaration:
    """Declare a fixed-rate schedule: `rate("15 minutes", start=...)`."""
    return _declare("rate", {"every": every, **options})


def secret(name: str) -> SecretRef:
    """Refer to a secret by name; each target resolves it from its own secret store."""
    return SecretRef(name)


def divergence(**fields: object) -> Declaration:
    """Accept a named schedule divergence on one target: `divergence(target=, kind=, reason=)`."""
    return _declare("divergence", fields)
