"""The offline engine: the program under Pulumi's mocks and the policy pack in-process (the gate `lockstep preview`).

It previews only. It never applies, refreshes or reads a deployment: a mock is not a deployment, so `up`,
`refresh` and `outputs` raise an EngineError that says to use the automation engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.engine.base import EngineError, Finding, Verdict
from infra.errors import SpecInvalid

NEVER_APPLIES = ("the offline engine runs the program under Pulumi's mocks and cannot {what}: use --engine pulumi "
                 "(the Pulumi CLI through the Automation API) with the stack's credentials")


@dataclass
class OfflineEngine:
    """The Engine protocol over the offline gate, for the repository at `root`."""

    root: Path
    base: str | None = None
    compare: bool = True
    cache_dir: Path | None = None

    def preview(self, stack: str) -> Verdict:
        """Run the offline gate on the stack: every target's plan against the base, every policy."""
        from infra.preflight.run import preview

        result = preview(self.root, stack, base=self.base, compare=self.compare, cache_dir=self.cache_dir)
        if result.errors:  # the repo does not load: nothing was previewed, so nothing may pass
            raise SpecInvalid(result.errors)
        changes: dict[str, int] = {}
        for change in result.changes:
            changes[change.op] = changes.get(change.op, 0) + 1
        findings = [Finding(v.rule, v.level, v.urn, f"[{v.target}] {v.workflow}: {v.message}")
                    for v in result.violations]
        return Verdict(stack, "preview", findings=findings, changes=changes)

    def up(self, stack: str, *, urns: Sequence[str] = (), plan: Path | None = None) -> Verdict:
        """Refuse: mocks never deploy."""
        raise EngineError(NEVER_APPLIES.format(what=f"apply stack {stack!r}"))

    def refresh(self, stack: str, *, urns: Sequence[str] = ()) -> Verdict:
        """Refuse: mocks have no deployment to read back."""
        raise EngineError(NEVER_APPLIES.format(what=f"refresh stack {stack!r}"))

    def outputs(self, stack: str) -> Mapping[str, Any]:
        """Refuse: mocks have no deployed outputs."""
        raise EngineError(NEVER_APPLIES.format(what=f"read the outputs of stack {stack!r}"))
