"""The pack: its name and every rule, listed explicitly. __main__.py serves it; lockstep preview runs it in-process."""

from __future__ import annotations

from types import ModuleType

from pulumi_policy import EnforcementLevel, Policy

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
