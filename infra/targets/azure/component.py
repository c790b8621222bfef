"""Azure: a Function App on the stack's hosting plan, whose timer trigger reads its schedule from an app setting.

Children of `lockstep:azure:Workflow` (logical names `{workflow}-{role}`): rg (unless the stack names a resource
group), storage, packages, package (the content-addressed zip), logs, insights, plan, function, storage-role,
secret-N-role, action-group, failures-alert. The app runs from the package blob with its managed identity; host
storage is identity-based (no account keys are read, so no invokes). Secrets are Key Vault references.

An import record (infra/imports.py) adopts the live function app and, where the app alone used them, its plan,
storage account and Application Insights component: each keeps its live name and resource group, and the other
children go into the app's live resource group (no rg child: a live group is never adopted).
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any

import pulumi
import pulumi_azure_native as azn

from infra import naming
from infra.bundle import bundle
from infra.model import Workflow as Wf
from infra.stamps import CODE_ENV, ENTRY_ENV, as_env, describe, with_commit
from infra.targets.azure.facts import PLAN_SKUS, PREMIUM_BY_MEMORY
from infra.targets.azure.translate import (
    RETRY_SETTING,
    SCHEDULE_SETTING,
    TIMEOUT_SETTING,
    ZONE_SETTING,
    AzureDesired,
    names,
    translate,
)
from infra.targets.base import Context

TYPE = "lockstep:azure:Workflow"
# Built-in role definition IDs (the same in every tenant).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
PREMIUM_SKUS = tuple((name, *PLAN_SKUS["premium"][1:]) for _mb, name in PREMIUM_BY_MEMORY)
def role_assignment_name(*parts: str) -> str:
    """Return a deterministic GUID for a role assignment (Azure requires a GUID name)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "lockstep:" + "/".join(parts)))


def subscription_of(resource_id: str) -> str:
    """Return '/subscriptions/<id>' of an ARM resource ID."""
    return "/".join(resource_id.split("/")[:3])


def secret_name(reference: str) -> str:
    """Return the secret name of a Key Vault reference '@Microsoft.KeyVault(VaultName=v;SecretName=s)'."""
    return reference.rpartition("SecretName=")[2].rstrip(")")


def secret_scope(any_id: str, group: str, vault: str, secret: str) -> str:
    """Return the ARM scope of one Key Vault secret, in the subscription of another resource's ID."""
    vault_id = f"{subscription_of(any_id)}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{vault}"
    return f"{vault_id}/secrets/{secret}"


class Workflow(pulumi.ComponentResource):
    """One workflow on Azure."""

    app: azn.web.WebApp

    @staticmethod
    def provider_key(d: AzureDesired) -> tuple[str, str]:
        """Return what identifies the provider this workflow needs (shared by every workflow with the same key)."""
        return "azure-native", d.location

    @staticmethod
    def new_provider(name: str, d: AzureDesired) -> pulumi.ProviderResource:
        """Return the explicit provider for the desired state's location."""
        return azn.Provider(name, location=d.location)

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        assert ctx.stack.azure is not None
        self._d = translate(wf, ctx.stack).desired  # everything deployed below comes from here
        self._wf, self._ctx, self._cfg = wf, ctx, ctx.stack.azure
        self._tags = with_commit(self._d.stamps, ctx.commit)
        self._location = self._d.location
        self._live = ctx.live("azure")  # children that exist live keep their names and groups, and are imported
        self._names = names(ctx.stack, wf.name, self._location, self._live)
        self._group()
        self._storage()
        self._app()
        self._access()
        self._alerts()
        self.register_outputs({"appName": self.app.name, "location": self._location, "stamps": self._tags})

    def _child(self, role: str = "", **kw: Any) -> pulumi.ResourceOptions:
        live = self._live.get(role)
        return pulumi.ResourceOptions(parent=self, import_=live.id if live else None, **kw)

    def _in_group(self, role: str) -> dict[str, Any]:
        """Return the common arguments, in the child's live resource group (`names`) when it is imported."""
        group = getattr(self._names, f"{role}_group") if role in self._live else None
        return {**self._common(), **({"resource_group_name": group} if group else {})}

    def _phys(self, role: str, limit: int = 60) -> str:
        return naming.physical("lockstep", self._ctx.stack.name, self._wf.name, role, limit=limit)

    def _common(self) -> dict[str, Any]:
        return {"resource_group_name": self.rg_name, "location": self._location, "tags": self._tags}

    def _group(self) -> None:
        app = self._live.get("function")
        if app or self._cfg.resource_group:  # an adopted app stays in its group: moving it would replace it
            self.rg_name: pulumi.Output[str] = pulumi.Output.from_input(self._names.group)
            return
        group = azn.resources.ResourceGroup(
            naming.logical(self._wf.name, "rg"), location=self._location, tags=self._tags, opts=self._child(),
            resource_group_name=self._names.group)
        self.rg_name = group.name

    def _storage(self) -> None:
        wf, n = self._wf, naming.logical
        self.account_name = self._names.storage
        self.storage = azn.storage.StorageAccount(
            n(wf.name, "storage"), account_name=self.account_name,
            kind="StorageV2", sku=azn.storage.SkuArgs(name="Standard_LRS"), allow_blob_public_access=False,
            allow_shared_key_access=False, minimum_tls_version="TLS1_2", enable_https_traffic_only=True,
            opts=self._child("storage"), **self._in_group("storage"))
        storage_group = self._in_group("storage")["resource_group_name"]
        self.container = azn.storage.BlobContainer(
            n(wf.name, "packages"), account_name=self.storage.name, resource_group_name=storage_group,
            container_name="packages", public_access=azn.storage.PublicAccess.NONE, opts=self._child())
        self.package = bundle(wf, self._ctx.root, "azure")
        self.blob = azn.storage.Blob(
            n(wf.name, "package"), account_name=self.storage.name, resource_group_name=storage_group,
            container_name=self.container.name, blob_name=self.package.object_name, type=azn.storage.BlobType.BLOCK,
            content_type="application/zip", source=pulumi.FileAsset(str(self.package.path)),
            metadata=dict(as_env(self._tags)), opts=self._child())

    def _settings(self) -> list[azn.web.NameValuePairArgs]:
        d = self._d
        url = f"https://{self.account_name}.blob.core.windows.net/packages/{self.package.object_name}"
        settings: dict[str, pulumi.Input[str]] = {
            "FUNCTIONS_EXTENSION_VERSION": "~4", "FUNCTIONS_WORKER_RUNTIME": "python",
            "AzureWebJobsStorage__accountName": self.account_name, "WEBSITE_RUN_FROM_PACKAGE": url,
            "APPLICATIONINSIGHTS_CONNECTION_STRING": self.insights.connection_string,
            SCHEDULE_SETTING: d.schedule, **({ZONE_SETTING: d.time_zone} if d.time_zone else {}),
            TIMEOUT_SETTING: d.function_timeout, **({RETRY_SETTING: json.dumps(dict(d.retry), sort_keys=True)}
                                                   if d.retry else {}),
            **d.env, **d.secrets, **as_env(self._tags), ENTRY_ENV: d.entry, CODE_ENV: d.code_digest,
        }
        return [azn.web.NameValuePairArgs(name=k, value=v) for k, v in settings.items()]

    def _app(self) -> None:
        wf, n = self._wf, naming.logical
        self.workspace = azn.operationalinsights.Workspace(
            n(wf.name, "logs"), workspace_name=self._phys("logs"), retention_in_days=30,
            sku=azn.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"), opts=self._child(), **self._common())
        self.insights = azn.applicationinsights.Component(
            n(wf.name, "insights"), resource_name_=self._names.insights, kind="web",
            application_type="web", workspace_resource_id=self.workspace.id, ingestion_mode="LogAnalytics",
            opts=self._child("insights"), **self._in_group("insights"))
        sku = self._d.sku
        tier, kind = next((t, k) for n, t, k in (*PLAN_SKUS.values(), *PREMIUM_SKUS) if n == sku)
        premium = tier == "ElasticPremium"
        self.plan = azn.web.AppServicePlan(
            n(wf.name, "plan"), name=self._names.plan, kind=kind, reserved=True,
            sku=azn.web.SkuDescriptionArgs(name=sku, tier=tier),
            maximum_elastic_worker_count=1 if premium else None, opts=self._child("plan"), **self._in_group("plan"))
        self.app = azn.web.WebApp(
            n(wf.name, "function"), name=self._names.app,
            kind="functionapp,linux", reserved=True, server_farm_id=self.plan.id, https_only=True,
            identity=azn.web.ManagedServiceIdentityArgs(type=azn.web.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            site_config=azn.web.SiteConfigArgs(
                app_settings=self._settings(), linux_fx_version=self._d.runtime, ftps_state="Disabled",
                min_tls_version="1.2", always_on=True if tier == "PremiumV3" else None),
            opts=self._child("function", depends_on=[self.blob]), **self._common())

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
        for i, name in enumerate(sorted({secret_name(ref) for ref in self._d.secrets.values()})):
            # Scoped to the one secret, not the vault: the app reads only what the workflow declares.
            scope = self.storage.id.apply(functools.partial(secret_scope, group=str(group), vault=str(vault),
                                                            secret=name))
            azn.authorization.RoleAssignment(
                n(wf.name, f"secret-{i}-role"), principal_id=principal, principal_type="ServicePrincipal",
                role_assignment_name=role_assignment_name(stack, wf.name, "secret", name), scope=scope,
                role_definition_id=self.storage.id.apply(
                    lambda sid: f"{subscription_of(sid)}/providers/Microsoft.Authorization/roleDefinitions/"
                                f"{KEY_VAULT_SECRETS_USER}"), opts=self._child())

    def _alerts(self) -> None:
        wf, n = self._wf, naming.logical
        self.action_group = azn.monitor.ActionGroup(
            n(wf.name, "action-group"), action_group_name=self._names.alerts, resource_group_name=self.rg_name,
            location="global", group_short_name=naming.physical(wf.name, limit=12), enabled=True, tags=self._tags,
            email_receivers=[azn.monitor.MicrosoftCommonEmailReceiverArgs(
                name=f"email-{i}", email_address=address, use_common_alert_schema=True)
                for i, address in enumerate(self._d.email_receivers)], opts=self._child())
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
