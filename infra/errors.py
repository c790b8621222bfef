"""Structured errors: every problem names its file, line, field and bad value, and says what to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from infra import redact


@dataclass(frozen=True)
class SpecError:
    """One problem in a workflow definition or a stack configuration; a secret value is never kept to be echoed."""

    path: str
    line: int
    field: str
    value: object
    why: str
    fix: str

    def __post_init__(self) -> None:
        # Redact by the field's role and the value's shape here, once, so no renderer can echo a secret.
        object.__setattr__(self, "value", redact.shown(self.field, self.value))
        object.__setattr__(self, "why", redact.scrub(self.why))
        object.__setattr__(self, "fix", redact.scrub(self.fix))

    def render(self) -> str:
        """Render as `path:line: field: 'value' — why — what to do`."""
        return f"{self.path}:{self.line}: {self.field}: {_show(self.value)} — {self.why} — {self.fix}"

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping."""
        return {
            "path": self.path,
            "line": self.line,
            "field": self.field,
            "value": _jsonable(self.value),
            "why": self.why,
            "fix": self.fix,
            "message": self.render(),
        }


class LockstepError(Exception):
    """An error a user can act on; the CLI prints it without a traceback."""


class UsageError(LockstepError):
    """A command-line argument is wrong (exit code 2, like argparse's own usage errors)."""


class SpecInvalid(LockstepError):
    """Raised when a load found problems; carries all of them."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(e.render() for e in self.errors))


def _show(value: object) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is _MISSING:
        return "(missing)"
    return repr(value)


def _jsonable(value: object) -> object:
    if value is _MISSING:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING = _Missing()
MISSING: object = _MISSING
