"""The pack: its name and every rule, listed explicitly. __main__.py serves it; lockstep preview runs it in-process."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from pulumi_policy import EnforcementLevel, Policy

from infra.model import Workflow
from policies.rules import (
    artifacts_by_digest,
    canonical_fields,
    deployed_matches_declared,
    failure_paths,
    least_privilege,
    no_orphans,
    no_overlap,
    no_public_invoke,
    platform_limits,
    schedule_equivalence,
    stamps_present,
    workflow_everywhere,
)

NAME = "lockstep"
DESCRIPTION = "Lockstep gate: every workflow validates on every target before anything is applied."
ENFORCEMENT = EnforcementLevel.MANDATORY
RULES: tuple[ModuleType, ...] = (
    stamps_present, artifacts_by_digest, no_public_invoke, least_privilege,   # per resource
    platform_limits, failure_paths, schedule_equivalence, canonical_fields,  # per workflow (stack rules)
    deployed_matches_declared,
    workflow_everywhere, no_orphans, no_overlap,                              # across the whole stack
)
POLICIES: list[Policy] = [m.POLICY for m in RULES]


def scope(policy: Policy) -> str:
    """Return 'resource', 'workflow' (a stack rule that judges each workflow on its own) or 'stack'."""
    module = next(m for m in RULES if m.POLICY is policy)
    return str(getattr(module, "SCOPE", "resource"))


def stack_contenders(workflows: Iterable[Workflow]) -> set[str] | None:
    """Return the workflows whose resources the stack-scope rules can report on (None: they need every workflow).

    A stack-scope rule module may define `contenders(workflows)`; the offline engine then feeds that rule only those
    workflows' stamps, which gives the diagnostics of a run over the whole stack.
    """
    declared = list(workflows)
    found: set[str] = set()
    for module in RULES:
        if getattr(module, "SCOPE", "resource") != "stack":
            continue
        pick = getattr(module, "contenders", None)
        if pick is None:
            return None
        found |= set(pick(declared))
    return found
