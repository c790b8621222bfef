"""The workflow on Azure as typed data: what the component deploys, and how faithfully each canonical field lands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from infra import naming
from infra.imports import NO_CHILDREN, Children, physical_name
from infra.model import StackConfig, Workflow
from infra.schedule.translate import Native, Refusal
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import identity
from infra.targets import common
from infra.targets.azure import facts
from infra.targets.base import EXACT, Fidelity, Translation, approximate, impossible, native

SCHEDULE_SETTING = "LOCKSTEP_SCHEDULE"    # the timer trigger reads "%LOCKSTEP_SCHEDULE%"
RETRY_SETTING = "LOCKSTEP_RETRY"          # JSON: the retry policy the shim applies to the timer function
TIMEOUT_SETTING = "AzureFunctionsJobHost__functionTimeout"
ZONE_SETTING = "WEBSITE_TIME_ZONE"


@dataclass(frozen=True)
class AzureNames:
    """The physical names of one workflow's Azure children on a stack, and the resource group of each."""

    group: str  # the function app's group; the children not adopted are made in it too
    app: str
    plan: str
    plan_group: str
    storage: str
    storage_group: str
    insights: str
    insights_group: str
    alerts: str


def names(stack: StackConfig, workflow: str, location: str, live: Children = NO_CHILDREN) -> AzureNames:
    """Return the physical names of a workflow's children: Lockstep's, or the live ones its import record keeps.

    The component deploys under these names and groups, and the live reader and the audit lookup read them by them.
    An adopted app stays in its live group (moving it would replace it); otherwise the stack's shared group, if it
    names one, else the workflow's own.
    """
    own = naming.physical("rg-lockstep", stack.name, workflow, limit=90)
    group = physical_name(live, "function", (stack.azure.resource_group if stack.azure else "") or own, "group")

    def phys(role: str) -> str:
        return naming.physical("lockstep", stack.name, workflow, role, limit=60)

    storage = physical_name(live, "storage", naming.compact(stack.name, workflow, limit=24, prefix="ls"))
    return AzureNames(
        group=group, app=physical_name(live, "function", naming.physical(
            "lockstep", stack.name, workflow, naming.short_hash(location), limit=60)),
        plan=physical_name(live, "plan", phys("plan")), plan_group=physical_name(live, "plan", group, "group"),
        storage=storage, storage_group=physical_name(live, "storage", group, "group"),
        insights=physical_name(live, "insights", phys("insights")),
        insights_group=physical_name(live, "insights", group, "group"), alerts=phys("alerts"))


@dataclass(frozen=True)
class AzureDesired:
    """One workflow on Azure: a Function App whose timer trigger reads its schedule and retry from app settings."""

    location: str = native("region")
    plan: str = native("memory")
    sku: str = native("memory")
    schedule: str = native("schedule")
    time_zone: str | None = native("timezone")           # WEBSITE_TIME_ZONE; None runs in UTC
    retry: Mapping[str, str] = native("retry.attempts")   # strategy, max_retry_count, intervals; empty: no retry
    function_timeout: str = native("timeout")
    email_receivers: tuple[str, ...] = native("notify")
    secrets: Mapping[str, str] = native("secrets")        # variable -> Key Vault reference
    env: Mapping[str, str] = native("env")
    runtime: str = native("runtime")
    entry: str = native("entry")
    code_digest: str = native("code")
    stamps: Mapping[str, str] = native("stamps")

    def native_schedule(self) -> Native:
        """Return the schedule as the fire-time model evaluates it (NCRONTAB in WEBSITE_TIME_ZONE, else UTC)."""
        return Native("azure", self.schedule, self.time_zone or "UTC",
                      {ZONE_SETTING: self.time_zone} if self.time_zone else {})


def azure_plan(wf: Workflow, stack: StackConfig) -> str:
    """Return the Azure plan a workflow uses: its local override, else the stack's."""
    local = wf.local("azure", "plan")
    return str(local) if local else (stack.azure.plan if stack.azure else "premium")


def plan_sku(wf: Workflow, stack: StackConfig) -> tuple[str, str, str]:
    """Return (sku name, tier, plan kind) for the workflow's plan; Premium is sized by the workflow's memory."""
    plan = azure_plan(wf, stack)
    name, tier, kind = facts.PLAN_SKUS[plan]
    memory = wf.local("azure", "memory_mb")
    if plan == "premium" and isinstance(memory, int):
        name = next((sku for limit, sku in facts.PREMIUM_BY_MEMORY if memory <= limit), "EP3")
    return name, tier, kind


def timespan(seconds: int) -> str:
    """Return seconds as a .NET TimeSpan string (hh:mm:ss), as Azure settings expect."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def retry_policy(wf: Workflow) -> dict[str, str]:
    """Return the timer function's retry policy (the arguments of the v2 model's `app.retry`), or {} for none."""
    r = wf.retry
    if r.attempts <= 1:
        return {}
    if r.backoff == "fixed":
        return {"strategy": "fixed_delay", "max_retry_count": str(r.attempts - 1),
                "delay_interval": timespan(r.delay_s)}
    return {"strategy": "exponential_backoff", "max_retry_count": str(r.attempts - 1),
            "minimum_interval": timespan(r.delay_s), "maximum_interval": timespan(r.max_delay_s)}


def translate(wf: Workflow, stack: StackConfig) -> Translation[AzureDesired]:
    """Return the workflow's desired state on Azure and each canonical field's fidelity."""
    assert stack.azure is not None
    plan = azure_plan(wf, stack)
    sched = translate_schedule(wf.schedule, "azure", azure_plan=plan, azure_os=stack.azure.os)
    vault = stack.azure.key_vault or "(none)"
    desired = AzureDesired(
        location=str(wf.local("azure", "location") or stack.azure.location), plan=plan,
        sku=plan_sku(wf, stack)[0], schedule=sched.expression if isinstance(sched, Native) else "",
        time_zone=sched.settings.get(ZONE_SETTING) if isinstance(sched, Native) else None,
        retry=retry_policy(wf), function_timeout=timespan(wf.timeout_s),
        email_receivers=tuple(sorted(common.emails(wf))),
        secrets={k: f"@Microsoft.KeyVault(VaultName={vault};SecretName={v.name})"
                 for k, v in sorted(wf.function.secrets.items())},
        env=dict(sorted(wf.function.env.items())), runtime=f"Python|{wf.function.runtime.removeprefix('python')}",
        entry=wf.function.entry, code_digest=wf.code_digest, stamps=identity(wf, "azure"))
    return Translation("azure", desired, _fidelity(wf, stack, sched))


def _fidelity(wf: Workflow, stack: StackConfig, sched: Native | Refusal) -> dict[str, Fidelity]:
    once = common.no_retries(wf)
    return {
        "schedule": common.schedule_fidelity(sched), "timezone": common.zone_fidelity(wf, sched, ""),
        "retry.attempts": EXACT if once else approximate(
            "the timer trigger keeps the retry count in memory: after a host restart fewer retries may happen"),
        "retry.backoff": EXACT if once or wf.retry.backoff == "fixed" else approximate(
            "Azure randomizes exponential_backoff intervals between the minimum and maximum"),
        "retry.max_event_age": EXACT if once else approximate(
            "Azure Functions has no maximum event age: retries stop only after the retry count"),
        "timeout": _timeout(wf, stack),
        "allow_overlap": approximate("a timer trigger never overlaps itself") if wf.allow_overlap else EXACT,
        "notify": common.webhook_fidelity(wf, "the workflow's action group"), "memory": _memory(wf, stack),
        "secrets": _secrets(wf, stack), "env": common.env_fidelity(wf, "azure", facts.RESERVED_ENV),
        "runtime": _runtime(wf, stack),
    }


def _timeout(wf: Workflow, stack: StackConfig) -> Fidelity:
    if azure_plan(wf, stack) == "consumption" and wf.timeout_s > facts.CONSUMPTION_MAX_TIMEOUT_S:
        return impossible("limit", f"timeout {wf.timeout_s} s exceeds the Azure Consumption plan's maximum "
                          f"functionTimeout of {facts.CONSUMPTION_MAX_TIMEOUT_S} s (10 min)",
                          "use timeout <= 10m, or a premium / flex-consumption / dedicated plan")
    return EXACT


def _memory(wf: Workflow, stack: StackConfig) -> Fidelity:
    plan, mb = azure_plan(wf, stack), wf.local("azure", "memory_mb")
    assert isinstance(mb, int)
    if mb > facts.PLAN_MEMORY_MB[plan]:
        return impossible("limit", f"memory {mb} MB exceeds what an instance of the {plan} plan offers "
                          f"({facts.PLAN_MEMORY_MB[plan]} MB)", "lower memory_mb, or choose a larger plan in the stack")
    return approximate(f"the {plan} plan sizes memory per instance; Azure has no per-function memory limit")


def _secrets(wf: Workflow, stack: StackConfig) -> Fidelity:
    if wf.function.secrets and not (stack.azure and stack.azure.key_vault and stack.azure.resource_group):
        return impossible("stack-config", f"Key Vault references need a vault, and stack {stack.name!r} names none",
                          f"set lockstep:azure.keyVault and lockstep:azure.resourceGroup (the vault's group) in "
                          f"{stack.path}")
    return EXACT


def _runtime(wf: Workflow, stack: StackConfig) -> Fidelity:
    if stack.azure and stack.azure.os == "windows":
        return impossible("unsupported", "Azure Functions runs Python only on Linux", "use lockstep:azure.os: linux")
    if azure_plan(wf, stack) == "flex-consumption":
        return impossible("unsupported", "Lockstep's Azure component runs the package from a blob URL "
                          "(WEBSITE_RUN_FROM_PACKAGE), which Flex Consumption does not support",
                          "use the consumption, premium or dedicated plan")
    return EXACT
