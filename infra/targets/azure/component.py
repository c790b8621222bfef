"""Azure: a Function App on the stack's hosting plan, whose timer trigger reads its schedule from an app setting.

Children of `lockstep:azure:Workflow` (logical names `{workflow}-{role}`): rg (unless the stack names a resource
group), storage, packages, package (the content-addressed zip), logs, insights, plan, function, storage-role,
secret-N-role, action-group, failures-alert. The app runs from the package blob with its managed identity; host
storage is identity-based (no account keys are read, so no invokes). Secrets are Key Vault references.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import pulumi
import pulumi_azure_native as azn

from infra import fidelity, naming
from infra.bundle import bundle, timespan
from infra.model import StackConfig
from infra.model import Workflow as Wf
from infra.schedule.translate import Native
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import as_env, describe, stamps
from infra.targets.base import Context

TYPE = "lockstep:azure:Workflow"
# Built-in role definition IDs (the same in every tenant).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
PLAN_SKUS = {"consumption": ("Y1", "Dynamic", "functionapp"), "premium": ("EP1", "ElasticPremium", "elastic"),
             "dedicated": ("P1v3", "PremiumV3", "linux"), "flex-consumption": ("FC1", "FlexConsumption", "functionapp")}
PREMIUM_BY_MEMORY = ((3584, "EP1"), (7168, "EP2"), (14336, "EP3"))


def translate(wf: Wf, stack: StackConfig) -> dict[str, Any]:
    """Return the native Azure value of every canonical field (what the component deploys)."""
    assert stack.azure is not None
    plan = fidelity.azure_plan(wf, stack)
    native = translate_schedule(wf.schedule, "azure", azure_plan=plan, azure_os=stack.azure.os)
    r, retries = wf.retry, wf.retry.attempts - 1
    backoff = "none" if not retries else (f"fixed_delay delay_interval={timespan(r.delay_s)}" if r.backoff == "fixed"
                                          else f"exponential_backoff minimum_interval={timespan(r.delay_s)} "
                                               f"maximum_interval={timespan(r.max_delay_s)}")
    vault = stack.azure.key_vault or "(none)"
    return {
        "schedule": native, "timezone": native,
        "retry.attempts": {"max_retry_count": retries} if retries else "no retry policy",
        "retry.backoff": backoff,
        "retry.max_event_age": "(no such setting)" if retries else "none",
        "timeout": {"functionTimeout": timespan(wf.timeout_s)},
        "allow_overlap": "timer trigger singleton (never overlaps)",
        "notify": [f"action-group:{n.kind}:{n.address if n.kind == 'email' else n.describe()}" for n in wf.notify],
        "memory": {"plan": plan, "sku": plan_sku(wf, stack)[0]},
        "secrets": {k: f"@Microsoft.KeyVault(VaultName={vault};SecretName={v.name})"
                    for k, v in sorted(wf.function.secrets.items())},
        "env": dict(sorted(wf.function.env.items())),
        "runtime": f"Python|{wf.function.runtime.removeprefix('python')}",
    }


def plan_sku(wf: Wf, stack: StackConfig) -> tuple[str, str, str]:
    """Return (sku name, tier, plan kind) for the workflow's plan; Premium is sized by the workflow's memory."""
    plan = fidelity.azure_plan(wf, stack)
    name, tier, kind = PLAN_SKUS[plan]
    memory = wf.local("azure", "memory_mb")
    if plan == "premium" and isinstance(memory, int):
        name = next((sku for limit, sku in PREMIUM_BY_MEMORY if memory <= limit), "EP3")
    return name, tier, kind


def role_assignment_name(*parts: str) -> str:
    """Return a deterministic GUID for a role assignment (Azure requires a GUID name)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lockstep:" + "/".join(parts)))


def subscription_of(resource_id: str) -> str:
    """Return '/subscriptions/<id>' of an ARM resource ID."""
    return "/".join(resource_id.split("/")[:3])


def secret_scope(any_id: str, group: str, vault: str, secret: str) -> str:
    """Return the ARM scope of one Key Vault secret, in the subscription of another resource's ID."""
    vault_id = f"{subscription_of(any_id)}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{vault}"
    return f"{vault_id}/secrets/{secret}"


class Workflow(pulumi.ComponentResource):
    """One workflow on Azure."""

    app: azn.web.WebApp

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        assert ctx.stack.azure is not None
        self._wf, self._ctx, self._cfg = wf, ctx, ctx.stack.azure
        self._tags = stamps(wf, "azure", ctx.commit)
        self._location = str(wf.local("azure", "location") or self._cfg.location)
        self._native = translate(wf, ctx.stack)
        self._group()
        self._storage()
        self._app()
        self._access()
        self._alerts()
        self.register_outputs({"appName": self.app.name, "location": self._location, "stamps": self._tags})

    def _child(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kw)

    def _phys(self, role: str, limit: int = 60) -> str:
        return naming.physical("lockstep", self._ctx.stack.name, self._wf.name, role, limit=limit)

    def _common(self) -> dict[str, Any]:
        return {"resource_group_name": self.rg_name, "location": self._location, "tags": self._tags}

    def _group(self) -> None:
        if self._cfg.resource_group:
            self.rg_name: pulumi.Output[str] = pulumi.Output.from_input(self._cfg.resource_group)
            return
        group = azn.resources.ResourceGroup(
            naming.logical(self._wf.name, "rg"), location=self._location, tags=self._tags, opts=self._child(),
            resource_group_name=naming.physical("rg-lockstep", self._ctx.stack.name, self._wf.name, limit=90))
        self.rg_name = group.name

    def _storage(self) -> None:
        wf, n = self._wf, naming.logical
        self.account_name = naming.compact(self._ctx.stack.name, wf.name, limit=24, prefix="ls")
        self.storage = azn.storage.StorageAccount(
            n(wf.name, "storage"), account_name=self.account_name,
            kind="StorageV2", sku=azn.storage.SkuArgs(name="Standard_LRS"), allow_blob_public_access=False,
            allow_shared_key_access=False, minimum_tls_version="TLS1_2", enable_https_traffic_only=True,
            opts=self._child(), **self._common())
        self.container = azn.storage.BlobContainer(
            n(wf.name, "packages"), account_name=self.storage.name, resource_group_name=self.rg_name,
            container_name="packages", public_access=azn.storage.PublicAccess.NONE, opts=self._child())
        self.package = bundle(wf, self._ctx.root, "azure")
        self.blob = azn.storage.Blob(
            n(wf.name, "package"), account_name=self.storage.name, resource_group_name=self.rg_name,
            container_name=self.container.name, blob_name=self.package.object_name, type=azn.storage.BlobType.BLOCK,
            content_type="application/zip", source=pulumi.FileAsset(str(self.package.path)),
            metadata=dict(as_env(self._tags)), opts=self._child())

    def _settings(self) -> list[azn.web.NameValuePairArgs]:
        native = self._native["schedule"]
        assert isinstance(native, Native), "refusals are raised before components are built"
        url = f"https://{self.account_name}.blob.core.windows.net/packages/{self.package.object_name}"
        settings: dict[str, pulumi.Input[str]] = {
            "FUNCTIONS_EXTENSION_VERSION": "~4", "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage__accountName": self.account_name, "WEBSITE_RUN_FROM_PACKAGE": url,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": self.insights.connection_string,
            "LOCKSTEP_SCHEDULE": native.expression, **native.settings,
            "AzureFunctionsJobHost__functionTimeout": timespan(self._wf.timeout_s),
            **self._native["env"], **self._native["secrets"], **as_env(self._tags),
        }
        return [azn.web.NameValuePairArgs(name=k, value=v) for k, v in settings.items()]

    def _app(self) -> None:
        wf, n = self._wf, naming.logical
        self.workspace = azn.operationalinsights.Workspace(
            n(wf.name, "logs"), workspace_name=self._phys("logs"), retention_in_days=30,
            sku=azn.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"), opts=self._child(), **self._common())
        self.insights = azn.applicationinsights.Component(
            n(wf.name, "insights"), resource_name_=self._phys("insights"), kind="web", application_type="web",
            workspace_resource_id=self.workspace.id, ingestion_mode="LogAnalytics", opts=self._child(),
            **self._common())
        sku, tier, kind = plan_sku(wf, self._ctx.stack)
        premium = tier == "ElasticPremium"
        self.plan = azn.web.AppServicePlan(
            n(wf.name, "plan"), name=self._phys("plan"), kind=kind, reserved=True,
            sku=azn.web.SkuDescriptionArgs(name=sku, tier=tier),
            maximum_elastic_worker_count=1 if premium else None, opts=self._child(), **self._common())
        self.app = azn.web.WebApp(
            n(wf.name, "function"), name=naming.physical("lockstep", self._ctx.stack.name, wf.name,
                                                         naming.short_hash(self._location), limit=60),
            kind="functionapp,linux", reserved=True, server_farm_id=self.plan.id, https_only=True,
            identity=azn.web.ManagedServiceIdentityArgs(type=azn.web.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            site_config=azn.web.SiteConfigArgs(
                app_settings=self._settings(), linux_fx_version=self._native["runtime"], ftps_state="Disabled",
                min_tls_version="1.2", always_on=True if tier == "PremiumV3" else None),
            opts=self._child(depends_on=[self.blob]), **self._common())

    def _access(self) -> None:
        wf, n, stack = self._wf, naming.logical, self._ctx.stack.name
        principal = self.app.identity.apply(lambda i: i.principal_id if i else None)
        self.storage_role = azn.authorization.RoleAssignment(
            n(wf.name, "storage-role"), principal_id=principal, principal_type="ServicePrincipal",
            role_assignment_name=role_assignment_name(stack, wf.name, "storage"), scope=self.storage.id,
            role_definition_id=self.storage.id.apply(
                lambda i: f"{subscription_of(i)}/providers/Microsoft.Authorization/roleDefinitions/"
                          f"{STORAGE_BLOB_DATA_OWNER}"), opts=self._child())
        vault, group = self._cfg.key_vault, self._cfg.resource_group
        for i, (_key, ref) in enumerate(sorted(wf.function.secrets.items())):
            # Scoped to the one secret, not the vault: the app reads only what the workflow declares.
            scope = self.storage.id.apply(functools.partial(secret_scope, group=str(group), vault=str(vault),
                                                            secret=ref.name))
            azn.authorization.RoleAssignment(
                n(wf.name, f"secret-{i}-role"), principal_id=principal, principal_type="ServicePrincipal",
                role_assignment_name=role_assignment_name(stack, wf.name, "secret", ref.name), scope=scope,
                role_definition_id=self.storage.id.apply(
                    lambda sid: f"{subscription_of(sid)}/providers/Microsoft.Authorization/roleDefinitions/"
                                f"{KEY_VAULT_SECRETS_USER}"), opts=self._child())

    def _alerts(self) -> None:
        wf, n = self._wf, naming.logical
        emails = [x for x in wf.notify if x.kind == "email"]
        self.action_group = azn.monitor.ActionGroup(
            n(wf.name, "action-group"), action_group_name=self._phys("alerts"), resource_group_name=self.rg_name,
            location="global", group_short_name=naming.physical(wf.name, limit=12), enabled=True, tags=self._tags,
            email_receivers=[azn.monitor.MicrosoftCommonEmailReceiverArgs(
                name=f"email-{i}", email_address=x.address, use_common_alert_schema=True)
                for i, x in enumerate(emails)], opts=self._child())
        self.alert = azn.monitor.MetricAlert(
            n(wf.name, "failures-alert"), rule_name=self._phys("failures"), resource_group_name=self.rg_name,
            location="global", description=f"{wf.name}: a run failed ({describe(self._tags)})", severity=2,
            enabled=True, scopes=[self.insights.id], evaluation_frequency="PT1M", window_size="PT5M",
            auto_mitigate=True, tags=self._tags,
            criteria=azn.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                all_of=[azn.monitor.MetricCriteriaArgs(
                    criterion_type="StaticThresholdCriterion", name="failed-runs", metric_name="requests/failed",
                    metric_namespace="microsoft.insights/components", operator="GreaterThan", threshold=0,
                    time_aggregation="Count")]),
            actions=[azn.monitor.MetricAlertActionArgs(action_group_id=self.action_group.id)], opts=self._child())
