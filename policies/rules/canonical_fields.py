"""Each canonical field lands on each target exactly or within its declared tolerance, never impossibly."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, Declared, Report, say, with_declared

SCOPE = "workflow"
SCHEDULE_FIELDS = ("schedule", "timezone")  # judged by schedule-equivalence (translation of both)


def check(args: Any, report: Report, model: Declared) -> None:
    """Report every (target, field) that infra.fidelity judges impossible for a deployed workflow.

    "approximate" landings are the tolerances infra/fidelity.py declares, each with its stated difference; they
    pass. Schedule and time zone are judged by schedule-equivalence, which also honours accepted divergences.
    """
    from infra.fidelity import assess  # imports the target modules; only stack rules that need them pay for it

    for wf in model.judged():  # judged from the declaration: a refused target has no resources to look at
        name = wf.name
        for target in model.expected_targets(wf):
            for landing in assess(wf, model.stack, target):
                if landing.fidelity == "impossible" and landing.field not in SCHEDULE_FIELDS:
                    report(say(target, name, landing.field, f"is impossible on {target}: {landing.reason} — "
                               f"{landing.fix}"))


POLICY = StackValidationPolicy(
    name="canonical-fields-within-tolerance",
    description="Every canonical field is exact or within its declared tolerance on every target.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["cross-target", "fidelity", "lockstep"],
    remediation_steps="Change the field to a value every target honours, or drop the target.",
)
