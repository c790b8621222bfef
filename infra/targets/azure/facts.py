"""What Microsoft documents about Azure Functions timer triggers and hosting plans, with sources. SDK-free.

Sources:
  [Z1] "Timer trigger for Azure Functions" (learn.microsoft.com/azure/azure-functions/functions-bindings-timer)
  [Z2] "Azure Functions error handling and retries" (retry policies for timer triggers)
  [Z3] "Azure Functions hosting options" (functionTimeout maxima and instance memory per plan)
"""

from __future__ import annotations

from infra.targets.base import ResourceFacts

PLANS = ("consumption", "flex-consumption", "premium", "dedicated")
CONSUMPTION_MAX_TIMEOUT_S = 600    # Consumption: functionTimeout at most 10 min [Z3]
PLAN_MEMORY_MB = {"consumption": 1536, "flex-consumption": 4096, "premium": 14336, "dedicated": 16384}  # [Z3]
# (SKU name, tier, plan kind) Lockstep deploys for each plan; Premium is sized by the workflow's memory.
PLAN_SKUS = {"consumption": ("Y1", "Dynamic", "functionapp"), "premium": ("EP1", "ElasticPremium", "elastic"),
             "dedicated": ("P1v3", "PremiumV3", "linux"), "flex-consumption": ("FC1", "FlexConsumption", "functionapp")}
PREMIUM_BY_MEMORY = ((3584, "EP1"), (7168, "EP2"), (14336, "EP3"))
RESERVED_ENV = ("WEBSITE_", "FUNCTIONS_", "AZUREWEBJOBS", "APPLICATIONINSIGHTS_", "LOCKSTEP_")
DEFAULT_FUNCTION_TIMEOUT = "00:30:00"  # Premium and Dedicated default [Z3]

# Types whose provider schema takes no tags (tests/test_policy_stamps_sdk.py checks this against the installed SDK).
RESOURCES = ResourceFacts("azure-native:", "tags", untaggable=frozenset({
    "azure-native:storage:BlobContainer", "azure-native:storage:Blob", "azure-native:authorization:RoleAssignment"}),
    notify_type="azure-native:monitor:ActionGroup")

# The children a workflow adopts from live resources, and the live names each keeps (a new name or resource group
# would replace it). Import IDs as pulumi-azure-native documents them (`## Import`): each child's ARM resource ID,
# `/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Web/sites/{name}` (and `.../serverfarms/`,
# `Microsoft.Storage/storageAccounts/`, `Microsoft.Insights/components/`).
IMPORTABLE: dict[str, tuple[str, ...]] = {"function": ("name", "group"), "plan": ("name", "group"),
                                          "storage": ("name", "group"), "insights": ("name", "group")}
