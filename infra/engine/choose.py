"""Pick an engine by name: `offline` (the gate under mocks; never applies) or `pulumi` (the CLI, Automation API)."""

from __future__ import annotations

from pathlib import Path

from infra.engine.automation import AutomationEngine
from infra.engine.base import Engine, EngineError
from infra.engine.offline import OfflineEngine

ENGINES = ("offline", "pulumi")


def engine(name: str, root: Path, *, plan_dir: Path | None = None, cache_dir: Path | None = None) -> Engine:
    """Return the named engine for the repository at root."""
    if name == "offline":
        return OfflineEngine(root, cache_dir=cache_dir)
    if name == "pulumi":
        return AutomationEngine(root, plan_dir or root / ".lockstep" / "plans")
    raise EngineError(f"engine {name!r} is not one of {', '.join(ENGINES)}")
