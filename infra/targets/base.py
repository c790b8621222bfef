"""What every target component receives besides the workflow: the stack, the repo root, the stamps' commit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.model import StackConfig


@dataclass(frozen=True)
class Context:
    """The build context of one stack run: shared by every component of that run, never mutated."""

    stack: StackConfig
    root: Path
    commit: str
    epoch: int = 0  # the on-prem fencing token the rollout holds; 0 for previews
