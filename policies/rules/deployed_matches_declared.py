"""What each component registers is what the workflow declares: registered inputs, normalized, equal its Desired."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from infra.fidelity import show
from infra.targets.base import NormalizeError, differences
from infra.targets.registry import TARGETS
from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, Declared, Report, registered, say, with_declared

SCOPE = "workflow"


def check(args: Any, report: Report, model: Declared) -> None:
    """Report every attribute where a target's registered resources differ from the workflow's desired state."""
    groups = registered(args.resources)
    for wf in model.judged():
        for target in model.expected_targets(wf):
            declared = TARGETS[target].translate(wf, model.stack)
            observed = groups.get((wf.name, target))
            if declared.refused() or not observed:
                continue  # canonical-fields and workflow-present-everywhere report these
            try:
                found = TARGETS[target].normalize(observed)
            except (NormalizeError, UnknownValueError) as exc:
                report(say(target, wf.name, "(resources)", f"the registered resources cannot be read back as the "
                           f"workflow's desired state ({exc}), so they cannot be shown to match and this fails "
                           f"closed — make every value known at preview, or fix infra/targets/{target}/"))
                continue
            for d in differences(declared.desired, found):
                report(say(target, wf.name, d.canonical, f"{d.attribute}: registered {show(d.observed)!r}, declared "
                           f"{show(d.declared)!r} — the {target} component deploys another value than the workflow "
                           f"declares; fix infra/targets/{target}/component.py (or its translate.py)"))


POLICY = StackValidationPolicy(
    name="deployed-matches-declared",
    description="Every target registers exactly the desired state its workflow declares, field by field.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.CRITICAL,
    framework=SOC2_CHANGE,
    tags=["cross-target", "desired-state", "lockstep"],
    remediation_steps="Make the target's component deploy its Desired unchanged; the message names the attribute.",
)
