"""The same gate through the real Pulumi CLI (Automation API): preview every stack with the pack, save the plan.

`pulumi up --plan <file>` later refuses anything the reviewed preview did not contain. A mandatory diagnostic fails
the gate, and so does pulumi-policy's "can't run policy ... during preview" note (advisory by design upstream). This
path cannot run on machines without the CLI; tests cover its boundary with a fake stack.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from infra.errors import LockstepError
from policies import pack

CANT_RUN = "can't run policy"


class PreviewingStack(Protocol):
    """The part of pulumi.automation.Stack this module uses."""

    def preview(self, **kwargs: Any) -> Any:
        """Run `pulumi preview`."""


StackSelector = Callable[[str, Path], PreviewingStack]


@dataclass(frozen=True)
class PolicyFinding:
    """One policy event of the real engine."""

    policy: str
    level: str
    urn: str
    message: str

    @property
    def blocking(self) -> bool:
        """Tell whether it fails the gate (mandatory, or a rule that could not run)."""
        return self.level in ("mandatory", "remediate") or CANT_RUN in self.message


@dataclass
class StackVerdict:
    """The result of one stack's real preview."""

    stack: str
    plan: Path
    findings: list[PolicyFinding] = field(default_factory=list)
    error: str = ""

    @property
    def blocked(self) -> bool:
        """Tell whether this stack fails the gate."""
        return bool(self.error) or any(f.blocking for f in self.findings)


def require_cli() -> str:
    """Return the pulumi executable, or raise a LockstepError saying how to get one (or to use the offline engine)."""
    found = shutil.which("pulumi")
    if not found:
        raise LockstepError("the Pulumi CLI is not installed (no `pulumi` on PATH): install it "
                            "(https://www.pulumi.com/docs/install/) with cloud credentials, or run the offline "
                            "gate: lockstep preview --stack STACK (the default --engine offline)")
    return found


def automation_selector(stack: str, root: Path) -> PreviewingStack:
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
                   select: StackSelector = automation_selector) -> list[StackVerdict]:
    """Preview every stack with the pack and save each plan; return one verdict per stack."""
    if select is automation_selector:
        require_cli()
    plan_dir.mkdir(parents=True, exist_ok=True)
    return [_preview_one(root, name, plan_dir, select) for name in stacks]


def _preview_one(root: Path, name: str, plan_dir: Path, select: StackSelector) -> StackVerdict:
    verdict = StackVerdict(name, plan_dir / f"{name}.plan.json")
    config = policy_config(root, name, plan_dir / f"{name}.policy-config.json")

    def on_event(event: Any) -> None:
        policy = getattr(event, "policy_event", None)
        if policy is not None:
            verdict.findings.append(PolicyFinding(policy.policy_name, str(policy.enforcement_level).lower(),
                                                  policy.resource_urn or "", policy.message))
    try:
        select(name, root).preview(policy_packs=[str(root / "policies")], policy_pack_configs=[str(config)],
                                   plan=str(verdict.plan), on_event=on_event, suppress_progress=True)
    except Exception as exc:  # CommandError on mandatory violations or program errors: the gate blocks
        verdict.error = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else type(exc).__name__
    return verdict


def render(verdicts: Sequence[StackVerdict]) -> str:
    """Render the verdicts as text, blocking findings first."""
    lines = []
    for v in verdicts:
        lines.append(f"stack {v.stack}: {'BLOCKED' if v.blocked else 'PASS'} (plan saved to {v.plan})")
        if v.error:
            lines.append(f"  pulumi preview failed: {v.error}")
        for f in sorted(v.findings, key=lambda f: not f.blocking):
            lines.append(f"  [{f.level}] {f.policy} {f.urn}: {f.message.splitlines()[-1] if f.message else ''}")
    return "\n".join(lines)
