"""Retry and timeout settings stay within each platform's documented limits (infra/targets/<t>/facts.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from infra.targets.azure import facts as azure
from policies.lib import SOC2_CHANGE, Report, fail_closed, say, stamped
from policies.limits import LIMITS, seconds

SCOPE = "workflow"
CONSUMPTION_SKUS = ("Y1",)


def _limits(t: str, p: Any, plan_sku: str | None) -> Iterator[tuple[str, str, int, int, int]]:
    """Yield (field, setting, value, low, high) for each limited setting of a resource."""
    for type_, path, setting, field, low, high in LIMITS:
        value = p
        for part in path.split(".") if type_ == t else ():
            value = value.get(part) if isinstance(value, Mapping) else None
        if type_ == t and value is not None:
            yield field, setting, seconds(value), low, high
    if t == "azure-native:web:WebApp" and plan_sku in CONSUMPTION_SKUS:
        found = {x.get("name"): x.get("value") for x in (p.get("siteConfig") or {}).get("appSettings") or []}
        if found.get("AzureFunctionsJobHost__functionTimeout") is not None:
            yield ("timeout", "functionTimeout (Consumption plan)",
                   seconds(found["AzureFunctionsJobHost__functionTimeout"]), 1, azure.CONSUMPTION_MAX_TIMEOUT_S)


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report every limited setting outside the platform's documented range."""
    items = list(stamped(args.resources))
    plans = {st.get("lockstep-workflow"): str((r.props.get("sku") or {}).get("name"))
             for r, st in items if r.resource_type == "azure-native:web:AppServicePlan"}
    for resource, st in items:
        workflow, target = st.get("lockstep-workflow", "?"), st.get("lockstep-target", "?")
        for field, setting, value, low, high in _limits(resource.resource_type, resource.props, plans.get(workflow)):
            if not low <= value <= high:
                report(say(target, workflow, field, f"{resource.name}: {setting} is {value}, outside {target}'s "
                           f"documented range {low}-{high} — change the workflow's {field}, or drop {target}"),
                       resource.urn)


POLICY = StackValidationPolicy(
    name="platform-limits",
    description="Retry and timeout settings are within each platform's documented limits.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["per-target", "limits", "lockstep"],
    remediation_steps="Keep timeout and retries within the limits in infra/targets/<t>/facts.py, or drop the target.",
)
