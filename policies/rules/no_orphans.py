"""Nothing is deployed for a workflow that workflows/ does not declare."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, WORKFLOW_COMPONENT, Declared, Report, say, stamped, with_declared

SCOPE = "workflow"  # an orphan is judged by its own stamps: the union of per-workflow runs is the whole stack


def check(args: Any, report: Report, model: Declared) -> None:
    """Report stamped resources and Workflow components whose workflow is not declared in the repo."""
    for resource, st in stamped(args.resources):
        name = st.get("lockstep-workflow", "")
        if name not in model.workflows:
            target = st.get("lockstep-target", "?")
            report(say(target, name or "?", "name", f"{resource.name} ({resource.resource_type}) is stamped with a "
                       "workflow that workflows/ does not declare — delete it, or restore the workflow's definition"),
                   resource.urn)
    for resource in args.resources:
        if resource.resource_type == WORKFLOW_COMPONENT and resource.name not in model.workflows:
            report(say("?", resource.name, "name", "a Workflow component exists for a workflow that workflows/ "
                       "does not declare — the program must build components only from workflows/"), resource.urn)


POLICY = StackValidationPolicy(
    name="no-orphans",
    description="Every stamped resource belongs to a workflow declared in workflows/.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.MEDIUM,
    framework=SOC2_CHANGE,
    tags=["cross-target", "lockstep"],
    remediation_steps="Delete resources of removed workflows, or restore the workflow file.",
)
