"""Failures go somewhere: a dead-letter queue where the platform has one, and every declared notification."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from infra.targets.registry import TARGETS
from policies.lib import CONFIG_SCHEMA, SOC2_MONITOR, Declared, Report, say, stamped, with_declared

SCOPE = "workflow"
NOTIFY_TYPE = {name: t.resources.notify_type for name, t in TARGETS.items() if t.resources.notify_type}


def _emails(target: str, resources: list[Any], everything: list[Any]) -> int:
    """Return how many e-mail recipients a target's deployed notification resources reach."""
    if target == "azure":
        groups = [r for r in resources if r.resource_type == NOTIFY_TYPE[target]]
        return sum(len(r.props.get("emailReceivers") or []) for r in groups)
    if target == "gcp":
        return sum(1 for r in resources if r.resource_type == NOTIFY_TYPE[target] and r.props.get("type") == "email")
    parents = {r.parent.urn for r in resources if r.resource_type == NOTIFY_TYPE["aws"] and r.parent is not None}
    return sum(1 for r in everything if r.resource_type == "aws:sns/topicSubscription:TopicSubscription"
               and r.parent is not None and r.parent.urn in parents and r.props.get("protocol") == "email")


def check(args: Any, report: Report, model: Declared) -> None:
    """Report a missing dead-letter queue (AWS) and targets without the declared notifications."""
    by_key: dict[tuple[str, str], list[Any]] = {}
    for resource, st in stamped(args.resources):
        by_key.setdefault((st.get("lockstep-workflow", ""), st.get("lockstep-target", "")), []).append(resource)
    for (name, target), resources in sorted(by_key.items()):
        wf = model.workflows.get(name)
        if wf is None:
            continue
        if target == "aws" and not any(r.resource_type == "aws:sqs/queue:Queue" for r in resources):
            report(say(target, name, "retry", "no dead-letter queue: a run the scheduler cannot deliver is lost — "
                       "give the schedule a dead_letter_config"))
        if not wf.notify or target not in NOTIFY_TYPE:
            continue
        if not any(r.resource_type == NOTIFY_TYPE[target] for r in resources):
            report(say(target, name, "notify", f"the workflow declares notifications but {target} has no "
                       f"{NOTIFY_TYPE[target]} — deploy the notification channel"))
            continue
        declared, deployed = sum(1 for n in wf.notify if n.kind == "email"), _emails(target, resources, args.resources)
        if deployed < declared:
            report(say(target, name, "notify", f"{declared} e-mail recipient(s) declared, {deployed} deployed — "
                       "subscribe every declared address"))


POLICY = StackValidationPolicy(
    name="failure-paths",
    description="Every target has a dead-letter queue (where it has one) and every declared notification.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.MEDIUM,
    framework=SOC2_MONITOR,
    tags=["per-target", "observability", "lockstep"],
    remediation_steps="Deploy the workflow through its component, which wires the DLQ and notifications.",
)
