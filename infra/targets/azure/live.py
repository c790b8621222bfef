"""Read what Azure runs for each workflow through the Azure management libraries, mapped onto Pulumi's properties.

From `LIST_FROM` workflows in a resource group on, the apps, plans and action groups are listed per group
(`web_apps.list_by_resource_group`, `app_service_plans.list_by_resource_group`, azure-mgmt-monitor's
`action_groups.list_by_resource_group`: whole resources, paginated), and only what no list returns is read per
app: its app settings (a POST, `web_apps.list_application_settings`), and the app itself (`web_apps.get`) when the
list leaves out its `siteConfig.linuxFxVersion`. Below that, one call per resource: `web_apps.get`, the settings,
`app_service_plans.get` and the action group by ID. Plus one `resources.list` of function apps per subscription to
find stamped apps no workflow claims. Credentials come from `azure-identity`'s DefaultAzureCredential; `connect`
carries client keyword arguments (`credential`, `base_url`, `authentication_policy`, `polling_interval`) for an
emulator, and `subscription_id` (else $AZURE_SUBSCRIPTION_ID).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.monitor import MonitorManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.web import WebSiteManagementClient

from infra import naming
from infra.model import StackConfig
from infra.stamps import ENTRY_ENV
from infra.targets.azure.normalize import ACTION_GROUP, APP, PLAN, PLATFORM_SETTINGS
from infra.targets.azure.translate import (
    SCHEDULE_SETTING,
    TIMEOUT_SETTING,
    ZONE_SETTING,
    AzureNames,
    names,
)
from infra.targets.base import Observed
from infra.targets.discovered import Discovered, Discovery, code_of
from infra.targets.liveread import (
    Counter,
    LiveRead,
    NotDeployed,
    Unmanaged,
    Unreadable,
    Wanted,
    read_each,
    unreadable_all,
    use_lists,
    with_backoff,
)

ACTION_GROUP_API = "2023-01-01"
INSIGHTS_API = "2020-02-02"
# azure-core: bounded exponential backoff on 429 and 5xx (idempotent methods)
RETRY: dict[str, Any] = {"retry_total": 4, "retry_backoff_factor": 0.2}


class _Clients:
    """The web and resource clients of one subscription, counting the calls made through them."""

    def __init__(self, connect: Mapping[str, Any], out: LiveRead) -> None:
        kw = {k: v for k, v in connect.items() if k != "reads"}
        sub = kw.pop("subscription_id", None) or os.environ.get("AZURE_SUBSCRIPTION_ID")
        if not sub:
            raise Unreadable("no Azure subscription: set AZURE_SUBSCRIPTION_ID")
        if "credential" not in kw:
            from azure.identity import DefaultAzureCredential

            kw["credential"] = DefaultAzureCredential()
        self.subscription, self._count = str(sub), Counter(out)
        self.web = WebSiteManagementClient(subscription_id=self.subscription, **RETRY, **kw)
        self.resources = ResourceManagementClient(subscription_id=self.subscription, **RETRY, **kw)
        self.monitor = MonitorManagementClient(subscription_id=self.subscription, **RETRY, **kw)

    def count(self, result: Any) -> Any:
        """Count one API call and return its result."""
        self._count.add()
        return result

    def every(self, paged: Any) -> list[Any]:
        """Return every item of a paginated list, counting each page as a call."""
        found = []
        for page in paged.by_page():
            self._count.add()
            found.extend(page)
        return found


def read_live(stack: StackConfig, wanted: Mapping[str, Wanted], connect: Mapping[str, Any]) -> LiveRead:
    """Return the live Azure resources of every wanted workflow, and stamped function apps none of them claims."""
    out = LiveRead("azure")
    try:
        clients = _Clients(connect, out)
    except Unreadable as exc:
        out.error = str(exc)
        return out
    listed = _list_groups(out, clients, stack, wanted, connect)
    readable = {n: w for n, w in wanted.items() if n not in out.unreadable}

    def read(want: Wanted) -> list[Observed]:
        found = of(stack, want)
        return _workflow(clients, found, listed.get(found.group))

    read_each(out, readable, read, _why)
    out.resources_read += len(out.resources)  # each app's settings are their own ARM resource (config/appsettings)
    claimed = {of(stack, want).app for want in wanted.values()}
    try:
        out.unmanaged.extend(_unmanaged(clients, stack, claimed))
    except AzureError as exc:
        out.error = f"listing function apps: {_why(exc)}"
    return out


def of(stack: StackConfig, want: Wanted) -> AzureNames:
    """Return the names and groups a wanted workflow's children have: Lockstep's, or those its record keeps."""
    return names(stack, want.workflow, want.desired.location, want.live)


@dataclass
class _Group:
    """One resource group as the lists show it: sites, plans and action groups by lower-cased name."""

    sites: dict[str, Any] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)
    receivers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _list_groups(out: LiveRead, c: _Clients, stack: StackConfig, wanted: Mapping[str, Wanted],
                 connect: Mapping[str, Any]) -> dict[str, _Group]:
    """List each resource group with enough workflows; a failed list makes that group's reads unreadable."""
    by_group: dict[str, list[str]] = {}
    for name, want in wanted.items():
        by_group.setdefault(of(stack, want).group, []).append(name)
    listed = {}
    for rg, members in sorted(by_group.items()):
        if not use_lists(connect, len(members)):
            continue
        try:
            listed[rg] = _Group(
                _by_name(c.every(c.web.web_apps.list_by_resource_group(rg))),
                _by_name(c.every(c.web.app_service_plans.list_by_resource_group(rg))),
                {k: [{"name": r.name, "emailAddress": r.email_address} for r in g.email_receivers or []]
                 for k, g in _by_name(c.every(c.monitor.action_groups.list_by_resource_group(rg))).items()})
        except AzureError as exc:
            unreadable_all(out, members, f"listing function apps, plans and action groups in {rg}: {_why(exc)}")
    return listed


def _by_name(items: Iterable[Any]) -> dict[str, Any]:
    return {str(i.name).lower(): i for i in items}


def _point_group(c: _Clients, n: AzureNames) -> tuple[Any, Any, list[dict[str, Any]]]:
    site = _get(lambda: c.count(c.web.web_apps.get(n.group, n.app)), f"function app {n.app}")
    farm = _plan(c, n)
    group_id = (f"/subscriptions/{c.subscription}/resourceGroups/{n.group}/providers/microsoft.insights/"
                f"actionGroups/{n.alerts}")
    group = _get(lambda: c.count(c.resources.resources.get_by_id(group_id, api_version=ACTION_GROUP_API)),
                 f"action group {n.alerts}")
    return site, farm, list((group.properties or {}).get("emailReceivers", []))


def _plan(c: _Clients, n: AzureNames) -> Any:
    return _get(lambda: c.count(c.web.app_service_plans.get(n.plan_group, n.plan)), f"App Service plan {n.plan}")


def _from_lists(c: _Clients, g: _Group, n: AzureNames) -> tuple[Any, Any, list[dict[str, Any]]]:
    rg, app, plan, alerts = n.group, n.app, n.plan, n.alerts
    site = g.sites.get(app.lower())
    farm = g.plans.get(plan.lower()) if n.plan_group.lower() == rg.lower() else _plan(c, n)  # an adopted plan
    if site is None or farm is None or alerts.lower() not in g.receivers:
        what = f"function app {app}" if site is None else f"App Service plan {plan}" if farm is None \
            else f"action group {alerts}"
        raise NotDeployed(f"{what} does not exist")
    if not (site.site_config and site.site_config.linux_fx_version):  # ARM may leave siteConfig out of lists
        site = _get(lambda: c.count(c.web.web_apps.get(rg, app)), f"function app {app}")
    return site, farm, g.receivers[alerts.lower()]


def _workflow(c: _Clients, n: AzureNames, listed: _Group | None) -> list[Observed]:
    rg, app, plan, alerts = n.group, n.app, n.plan, n.alerts
    site, farm, receivers = _from_lists(c, listed, n) if listed is not None else _point_group(c, n)
    # azure-core retries only idempotent methods; the settings list is a POST, so throttling is retried here.
    settings = with_backoff(lambda: c.count(c.web.web_apps.list_application_settings(rg, app)),
                            _throttled).properties or {}
    return [Observed(APP, app, {
                "location": site.location, "tags": dict(site.tags or {}),
                "siteConfig": {"linuxFxVersion": site.site_config.linux_fx_version if site.site_config else None,
                               "appSettings": [{"name": k, "value": v} for k, v in sorted(settings.items())]},
                "lastModifiedTimeUtc": site.last_modified_time_utc.isoformat()
                if site.last_modified_time_utc else None}),
            Observed(PLAN, plan, {"sku": {"name": farm.sku.name if farm.sku else None}}),
            Observed(ACTION_GROUP, alerts, {"emailReceivers": [
                {"name": r.get("name"), "emailAddress": r.get("emailAddress")} for r in receivers]})]


def _unmanaged(c: _Clients, stack: StackConfig, claimed: set[str]) -> list[Unmanaged]:
    prefix = naming.physical("lockstep", stack.name, limit=60) + "-"
    found = []
    c.count(None)
    for res in c.resources.resources.list(filter="resourceType eq 'Microsoft.Web/sites'"):
        tags, name = dict(res.tags or {}), str(res.name or "")
        if name in claimed or not (name.startswith(prefix) or "lockstep-workflow" in tags):
            continue
        found.append(Unmanaged("azure", "function app", name, tags.get("lockstep-workflow", "")))
    return found


def _throttled(exc: BaseException) -> bool:
    return isinstance(exc, HttpResponseError) and exc.status_code in (429, 503)


def _get(call: Any, what: str) -> Any:
    try:
        return call()
    except ResourceNotFoundError as exc:
        raise NotDeployed(f"{what} does not exist") from exc


def _why(exc: BaseException) -> str | None:
    if isinstance(exc, HttpResponseError):
        return f"HTTP {exc.status_code}: {exc.message}"
    if isinstance(exc, AzureError):
        return f"{type(exc).__name__}: {exc.message}"
    return None


class _StaticBearer(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Send a fixed bearer token: an emulator over plain http takes any (real ARM needs azure-identity)."""

    def on_request(self, request: Any) -> None:
        """Set the Authorization header."""
        request.http_request.headers["Authorization"] = "Bearer emulator"


class _NoCredential:
    """A credential an emulator never asks for a token (the static bearer policy replaces the challenge)."""

    def get_token(self, *_scopes: str, **_kw: Any) -> Any:
        """Refuse: only the real ARM asks."""
        raise Unreadable("the emulator credential has no token")


def connect_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Return client overrides for an emulator ($LOCKSTEP_AZURE_ENDPOINT_URL); empty: the real ARM endpoint."""
    url = env.get("LOCKSTEP_AZURE_ENDPOINT_URL")
    if not url:
        return {}
    return {"base_url": url, "credential": _NoCredential(), "authentication_policy": _StaticBearer(),
            "polling_interval": 0}


def discover(stack: StackConfig, connect: Mapping[str, Any]) -> Discovery:
    """Return every site of the subscription: function apps whose timer trigger reads a schedule from their app
    settings or a function.json binding, each with the plan, host storage and Application Insights it uses."""
    out, read = Discovery("azure"), LiveRead("azure")
    try:
        c = _Clients(connect, read)
        linked = _Linked(c)
        for site in c.every(c.web.web_apps.list()):
            rg, app = _group_of(str(site.id)), str(site.name)
            settings = _settings(c, rg, app)
            timer = _timer(c, rg, app, settings) if _needs_functions(site, settings) else _Timer()
            out.found.append(_with_links(c, linked, site, rg, settings, _discovered(site, rg, settings, timer)))
    except (AzureError, Unreadable) as exc:
        out.errors.append(f"azure: {_why(exc) or exc}")
    out.calls = read.calls
    return out


def _group_of(resource_id: str) -> str:
    found = re.search(r"/resourcegroups/([^/]+)", resource_id, re.IGNORECASE)
    return found.group(1) if found else ""


def _settings(c: _Clients, rg: str, app: str) -> dict[str, str]:
    found = with_backoff(lambda: c.count(c.web.web_apps.list_application_settings(rg, app)), _throttled)
    return dict(found.properties or {})


def _schedule_key(settings: Mapping[str, str]) -> str:
    return SCHEDULE_SETTING if SCHEDULE_SETTING in settings else next(
        (k for k in sorted(settings) if k.upper().endswith("SCHEDULE")), "")


def _is_function_app(site: Any) -> bool:
    return "functionapp" in str(site.kind or "functionapp")


def _needs_functions(site: Any, settings: Mapping[str, str]) -> bool:
    """Say whether the app's function.json files are needed: for the schedule, or for the entry point."""
    return _is_function_app(site) and not (_schedule_key(settings) and settings.get(ENTRY_ENV))


@dataclass(frozen=True)
class _Timer:
    """An app's first timer-triggered function, from its function.json: schedule, function name, entry point."""

    schedule: str = ""
    function: str = ""
    entry: str = ""


def _timer(c: _Clients, rg: str, app: str, settings: Mapping[str, str]) -> _Timer:
    """Return the app's first timer-triggered function (a `%Setting%` schedule resolves through the app settings);
    empty when the app has none."""
    for fn in c.count(list(c.web.web_apps.list_functions(rg, app))):
        config = getattr(fn, "config", None) or {}
        for binding in config.get("bindings") or []:
            if str(binding.get("type", "")).lower() == "timertrigger" and binding.get("schedule"):
                schedule = str(binding["schedule"])
                if schedule.startswith("%") and schedule.endswith("%"):
                    schedule = settings.get(schedule.strip("%"), "")
                name = str(fn.name).rsplit("/", 1)[-1]
                return _Timer(schedule, name, entry_of(name, config))
    return _Timer()


def entry_of(function: str, config: Mapping[str, Any]) -> str:
    """Return `module.function` of a Python function.json: its scriptFile is relative to the function's folder,
    its entryPoint defaults to `main` ("" when the script is not a Python file inside the app)."""
    script = str(config.get("scriptFile") or "__init__.py")
    path = posixpath.normpath(posixpath.join(function, script))
    if not path.endswith(".py") or path.startswith("../"):
        return ""
    module = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    return f"{module}.{config.get('entryPoint') or 'main'}"


def _discovered(site: Any, rg: str, settings: Mapping[str, str], timer: _Timer) -> Discovered:
    tags = dict(site.tags or {})
    key = _schedule_key(settings)
    base = Discovered("azure", str(site.location), f"{rg}/{site.name}", str(site.id), settings.get(key, timer.schedule),
                      settings.get(ZONE_SETTING) or "UTC", calls=str(site.name), function_id=str(site.id),
                      managed=tags.get("lockstep-workflow", ""))
    if not _is_function_app(site):
        return dataclasses.replace(base, not_a_workflow=f"it is a {site.kind} site, not a function app")
    if not key and not timer.schedule:
        return dataclasses.replace(base, not_a_workflow="no app setting or function.json timer binding holds a "
                                   "timer schedule (an HTTP- or queue-triggered app)")
    return dataclasses.replace(
        base, code=code_of(settings, settings.get("WEBSITE_RUN_FROM_PACKAGE", ""), "azure"),
        runtime=settings.get("FUNCTIONS_WORKER_RUNTIME", ""), entry=settings.get(ENTRY_ENV) or timer.entry,
        timeout_s=_seconds(settings.get(TIMEOUT_SETTING, "")),
        env={k: v for k, v in settings.items() if k != key and not k.startswith((*PLATFORM_SETTINGS, "LOCKSTEP_"))})


def _seconds(span: str) -> int | None:
    """Return an `hh:mm:ss` functionTimeout in seconds (None when there is none, or it is unbounded: -1)."""
    parts = span.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return (int(parts[0]) * 60 + int(parts[1])) * 60 + int(parts[2])


class _Linked:
    """The plans, storage accounts and Application Insights components of the subscription, listed when first asked
    (one list each; a component's instrumentation key needs a read of it)."""

    def __init__(self, c: _Clients) -> None:
        self._c = c
        self._plans: dict[str, Any] | None = None
        self._accounts: dict[str, Any] | None = None
        self._keys: dict[str, str] | None = None

    def plan(self, plan_id: str) -> Any:
        """Return the App Service plan of that ID (None when the subscription lists none)."""
        if self._plans is None:
            self._plans = {str(p.id).lower(): p for p in self._c.every(self._c.web.app_service_plans.list())}
        return self._plans.get(plan_id.lower())

    def account(self, name: str) -> Any:
        """Return the storage account of that name (names are global), as ARM lists it, or None."""
        if self._accounts is None:
            self._accounts = {str(a.name).lower(): a for a in self._generic("Microsoft.Storage/storageAccounts")}
        return self._accounts.get(name.lower())

    def insights(self, key: str) -> str:
        """Return the ID of the Application Insights component with that instrumentation key ("" for none)."""
        if self._keys is None:
            self._keys = {}
            for res in self._generic("Microsoft.Insights/components"):
                full = self._c.count(self._c.resources.resources.get_by_id(str(res.id), api_version=INSIGHTS_API))
                self._keys[str((full.properties or {}).get("InstrumentationKey", "")).lower()] = str(res.id)
        return self._keys.get(key.lower(), "")

    def _generic(self, kind: str) -> list[Any]:
        self._c.count(None)
        return list(self._c.resources.resources.list(filter=f"resourceType eq '{kind}'"))


def _with_links(c: _Clients, linked: _Linked, site: Any, rg: str, settings: Mapping[str, str],
                found: Discovered) -> Discovered:
    """Return the item with the live IDs of the plan, host storage and Application Insights its app uses, and what
    was read of them and of the app (by the input path the component declares each with)."""
    children, observed = {}, {}
    farm = linked.plan(str(site.server_farm_id)) if site.server_farm_id else None
    if farm is not None:
        children["plan"] = str(farm.id)
        observed["plan"] = {"sku.name": farm.sku.name if farm.sku else None}
    if found.not_a_workflow:
        return dataclasses.replace(found, children=children, observed=observed)
    account = linked.account(_storage_name(settings))
    if account is not None:
        children["storage"] = str(account.id)
        observed["storage"] = {"sku.name": account.sku.name if account.sku else None, "kind": account.kind}
    key = _instrumentation_key(settings)
    if key and linked.insights(key):
        children["insights"] = linked.insights(key)
    fx = site.site_config.linux_fx_version if site.site_config else None
    if not fx:  # ARM may leave siteConfig out of lists
        full = c.count(c.web.web_apps.get(rg, str(site.name)))
        fx = full.site_config.linux_fx_version if full.site_config else None
    app = {f"siteConfig.appSettings.{SCHEDULE_SETTING}": found.expression, "siteConfig.linuxFxVersion": fx,
           **({f"siteConfig.appSettings.{ZONE_SETTING}": settings[ZONE_SETTING]} if ZONE_SETTING in settings else {})}
    observed["function"] = {k: v for k, v in app.items() if v}
    runtime = fx if fx and found.runtime.lower() == "python" else found.runtime
    return dataclasses.replace(found, children=children, observed=observed, runtime=runtime)


def _storage_name(settings: Mapping[str, str]) -> str:
    """Return the host storage account's name: identity-based `AzureWebJobsStorage__accountName`, else the
    `AccountName=` of the connection string (nothing else of it is read: it carries the account key)."""
    named = settings.get("AzureWebJobsStorage__accountName", "")
    if named:
        return named
    parts = dict(p.split("=", 1) for p in settings.get("AzureWebJobsStorage", "").split(";") if "=" in p)
    return parts.get("AccountName", "")


def _instrumentation_key(settings: Mapping[str, str]) -> str:
    text = settings.get("APPLICATIONINSIGHTS_CONNECTION_STRING", "")
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    return parts.get("InstrumentationKey") or settings.get("APPINSIGHTS_INSTRUMENTATIONKEY", "")
