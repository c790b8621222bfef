"""Registered inputs (or a live reader's resources) of one workflow on Azure -> the AzureDesired they realise."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from infra.stamps import CODE_ENV, ENTRY_ENV
from infra.targets.azure import facts
from infra.targets.azure.translate import (
    RETRY_SETTING,
    SCHEDULE_SETTING,
    TIMEOUT_SETTING,
    ZONE_SETTING,
    AzureDesired,
)
from infra.targets.base import NormalizeError, Observed
from infra.targets.observed import get, json_map, one, split_env, stamps, text

APP = "azure-native:web:WebApp"
PLAN = "azure-native:web:AppServicePlan"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
# App settings the platform or Lockstep's own plumbing uses; the rest are the workflow's env and secrets.
PLATFORM_SETTINGS = ("FUNCTIONS_", "AzureWebJobs", "WEBSITE_", "APPLICATIONINSIGHTS_", "AzureFunctionsJobHost__")
KEY_VAULT_REF = "@Microsoft.KeyVault("

# Which live resource each AzureDesired attribute is read from, so drift can name the resource that differs.
SOURCES: Mapping[str, str] = MappingProxyType({
    f.name: PLAN if f.name in ("plan", "sku") else ACTION_GROUP if f.name == "email_receivers" else APP
    for f in dataclasses.fields(AzureDesired)})


def normalize(observed: Sequence[Observed]) -> AzureDesired:
    """Return the desired state the observed Azure resources of one workflow realise."""
    app, plan, group = one(observed, APP), one(observed, PLAN), one(observed, ACTION_GROUP)
    assert app and plan and group
    settings = {str(get(s, "name")): str(get(s, "value", default="")) for s in
                get(app.props, "siteConfig", "appSettings", default=[])}
    plain = {k: v for k, v in settings.items() if not k.startswith(PLATFORM_SETTINGS)}
    user, own = split_env(plain)
    location, sku = text(get(app.props, "location")), text(get(plan.props, "sku", "name"))
    if not location or not sku:
        raise NormalizeError("the function app has no location, or its plan no SKU")
    return AzureDesired(
        location=location, plan=plan_of(sku), sku=sku, schedule=own.get(SCHEDULE_SETTING, ""),
        time_zone=settings.get(ZONE_SETTING), retry=json_map(own.get(RETRY_SETTING)),
        function_timeout=settings.get(TIMEOUT_SETTING, facts.DEFAULT_FUNCTION_TIMEOUT),
        email_receivers=tuple(sorted(str(get(r, "emailAddress")) for r in
                                     get(group.props, "emailReceivers", default=[]))),
        secrets={k: v for k, v in user.items() if v.startswith(KEY_VAULT_REF)},
        env={k: v for k, v in user.items() if not v.startswith(KEY_VAULT_REF)},
        runtime=str(get(app.props, "siteConfig", "linuxFxVersion", default="")), entry=own.get(ENTRY_ENV, ""),
        code_digest=own.get(CODE_ENV, ""), stamps=stamps(get(app.props, "tags")))


def plan_of(sku: str) -> str:
    """Return the plan a SKU belongs to (Premium has three sizes)."""
    for plan, (name, _tier, _kind) in facts.PLAN_SKUS.items():
        if sku == name:
            return plan
    if sku in {name for _limit, name in facts.PREMIUM_BY_MEMORY}:
        return "premium"
    raise NormalizeError(f"SKU {sku!r} is none of the plans Lockstep deploys ({', '.join(facts.PLANS)})")
