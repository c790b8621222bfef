"""The real engine: the Pulumi CLI through the Automation API (preview with the pack and a saved plan, up, refresh).

`pulumi up --plan <file>` refuses anything the reviewed preview did not contain, and `--target` restricts an apply
to one wave's URNs. A mandatory diagnostic fails the gate, and so does pulumi-policy's "can't run policy ... during
preview" note (advisory by design upstream). This path cannot run on machines without the CLI: tests cover its
boundary with a fake stack, and nothing here has been run against a real cloud.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from infra.engine.base import EngineError, Finding, Verdict
from policies import pack


class AutomationStack(Protocol):
    """The part of pulumi.automation.Stack this module uses."""

    def preview(self, **kwargs: Any) -> Any:
        """Run `pulumi preview`."""

    def up(self, **kwargs: Any) -> Any:
        """Run `pulumi up`."""

    def refresh(self, **kwargs: Any) -> Any:
        """Run `pulumi refresh`."""

    def outputs(self) -> Mapping[str, Any]:
        """Return the stack's outputs."""


StackSelector = Callable[[str, Path], AutomationStack]


def require_cli() -> str:
    """Return the pulumi executable, or raise an EngineError saying how to get one (or to use the offline engine)."""
    found = shutil.which("pulumi")
    if not found:
        raise EngineError("the Pulumi CLI is not installed (no `pulumi` on PATH): install it "
                            "(https://www.pulumi.com/docs/install/) with cloud credentials, or run the offline "
                            "gate: lockstep preview --stack STACK (the default --engine offline)")
    return found


def automation_selector(stack: str, root: Path) -> AutomationStack:
    """Select an existing stack of the project at root through the Automation API."""
    from pulumi import automation as auto

    selected: Any = auto.select_stack(stack_name=stack, work_dir=str(root))
    return selected  # type: ignore[no-any-return]


def policy_config(root: Path, stack: str, out: Path) -> Path:
    """Write the pack's config (repo root and stack for the rules that read the declared model) and return it."""
    config = {p.name: {"repoRoot": str(root), "stack": stack} for p in pack.POLICIES if p.config_schema}
    out.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return out


def preview_stacks(root: Path, stacks: Sequence[str], plan_dir: Path,
                   select: StackSelector = automation_selector) -> list[Verdict]:
    """Preview every stack with the pack and save each plan; return one verdict per stack."""
    if select is automation_selector:
        require_cli()
    plan_dir.mkdir(parents=True, exist_ok=True)
    return [_preview_one(root, name, plan_dir, select) for name in stacks]


def _preview_one(root: Path, name: str, plan_dir: Path, select: StackSelector) -> Verdict:
    verdict = Verdict(name, "preview", plan=plan_dir / f"{name}.plan.json")
    config = policy_config(root, name, plan_dir / f"{name}.policy-config.json")
    _run(verdict, lambda on_event: select(name, root).preview(
        policy_packs=[str(root / "policies")], policy_pack_configs=[str(config)], plan=str(verdict.plan),
        on_event=on_event, suppress_progress=True))
    return verdict


def _run(verdict: Verdict, call: Callable[[Callable[[Any], None]], Any]) -> None:
    """Run one CLI operation, collecting its policy events; a failure becomes the verdict's error."""
    def on_event(event: Any) -> None:
        policy = getattr(event, "policy_event", None)
        if policy is not None:
            verdict.findings.append(Finding(policy.policy_name, str(policy.enforcement_level).lower(),
                                            policy.resource_urn or "", policy.message))
    try:
        result = call(on_event)
        summary = getattr(result, "change_summary", None) or getattr(getattr(result, "summary", None),
                                                                     "resource_changes", None)
        if isinstance(summary, Mapping):
            verdict.changes = {str(k): int(v) for k, v in summary.items()}
    except Exception as exc:  # CommandError on mandatory violations or program errors: the operation fails
        verdict.error = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else type(exc).__name__


@dataclass
class AutomationEngine:
    """The Engine protocol over the Pulumi CLI: the project at `root`, plans saved under `plan_dir`."""

    root: Path
    plan_dir: Path
    select: StackSelector = automation_selector

    def preview(self, stack: str) -> Verdict:
        """Preview the stack with the policy pack and save its plan."""
        [verdict] = preview_stacks(self.root, [stack], self.plan_dir, self.select)
        return verdict

    def up(self, stack: str, *, urns: Sequence[str] = (), plan: Path | None = None) -> Verdict:
        """Apply the stack (only these URNs when given), refusing anything the saved plan does not contain."""
        self._cli()
        verdict = Verdict(stack, "up", plan=plan)
        config = policy_config(self.root, stack, self.plan_dir / f"{stack}.policy-config.json")
        _run(verdict, lambda on_event: self.select(stack, self.root).up(
            target=list(urns) or None, plan=str(plan) if plan else None, policy_packs=[str(self.root / "policies")],
            policy_pack_configs=[str(config)], on_event=on_event, suppress_progress=True))
        return verdict

    def refresh(self, stack: str, *, urns: Sequence[str] = ()) -> Verdict:
        """Read the stack's resources back from their platforms."""
        self._cli()
        verdict = Verdict(stack, "refresh")
        _run(verdict, lambda on_event: self.select(stack, self.root).refresh(
            target=list(urns) or None, on_event=on_event, suppress_progress=True))
        return verdict

    def outputs(self, stack: str) -> Mapping[str, Any]:
        """Return the stack's outputs (their plain values)."""
        self._cli()
        found = self.select(stack, self.root).outputs()
        return {k: getattr(v, "value", v) for k, v in found.items()}

    def _cli(self) -> None:
        if self.select is automation_selector:
            require_cli()
        self.plan_dir.mkdir(parents=True, exist_ok=True)


def render(verdicts: Sequence[Verdict]) -> str:
    """Render the verdicts as text, blocking findings first."""
    lines = []
    for v in verdicts:
        lines.append(f"stack {v.stack}: {'BLOCKED' if v.blocked else 'PASS'} (plan saved to {v.plan})")
        if v.error:
            lines.append(f"  pulumi preview failed: {v.error}")
        for f in sorted(v.findings, key=lambda f: not f.blocking):
            lines.append(f"  [{f.level}] {f.policy} {f.urn}: {f.message.splitlines()[-1] if f.message else ''}")
    return "\n".join(lines)
