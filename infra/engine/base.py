"""The Engine protocol the rollout drives, and the one Verdict every engine returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from infra.errors import LockstepError

CANT_RUN = "can't run policy"


class EngineError(LockstepError):
    """An engine cannot do what was asked (no CLI, an offline engine asked to apply, ...); the message says why."""


@dataclass(frozen=True)
class Finding:
    """One policy diagnostic of a run."""

    policy: str
    level: str
    urn: str
    message: str

    @property
    def blocking(self) -> bool:
        """Tell whether it fails the gate (mandatory, or a rule that could not run)."""
        return self.level in ("mandatory", "remediate") or CANT_RUN in self.message


@dataclass
class Verdict:
    """What one engine operation on one stack did: its policy findings, its saved plan, and any failure."""

    stack: str
    operation: str  # preview | up | refresh
    findings: list[Finding] = field(default_factory=list)
    plan: Path | None = None
    error: str = ""
    changes: Mapping[str, int] = field(default_factory=dict)  # operation -> count (create, update, delete, ...)

    @property
    def blocked(self) -> bool:
        """Tell whether the operation failed or a blocking policy finding stands."""
        return bool(self.error) or any(f.blocking for f in self.findings)


class Engine(Protocol):
    """Preview, apply, refresh and read a stack. Implementations: offline (mocks; never applies) and automation."""

    def preview(self, stack: str) -> Verdict:
        """Preview the stack with every policy, saving the plan where the engine can."""
        ...

    def up(self, stack: str, *, urns: Sequence[str] = (), plan: Path | None = None) -> Verdict:
        """Apply the stack (only `urns` when given), exactly as the saved `plan` says when given."""
        ...

    def refresh(self, stack: str, *, urns: Sequence[str] = ()) -> Verdict:
        """Read the stack's resources back from their platforms into its state."""
        ...

    def outputs(self, stack: str) -> Mapping[str, Any]:
        """Return the stack's outputs."""
        ...
