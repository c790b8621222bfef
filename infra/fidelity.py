"""How each canonical field lands on each target: exact, approximate (and how it differs) or impossible (and why).

One table, read by `lockstep explain`, by the program (which refuses a target holding an impossible field) and by
policies. The native values come from each target module's `translate(wf, stack)`, which is also what its
component deploys, so what explain prints is what would be deployed. Platform limits live here, in one place
(sources: docs/reference schedule-semantics.md §2c, §7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from infra.errors import SpecError, SpecInvalid
from infra.model import StackConfig, Workflow
from infra.schedule.canonical import parse_cron
from infra.schedule.translate import Native, Refusal

Fidelity = Literal["exact", "approximate", "impossible"]
FIELDS = ("schedule", "timezone", "retry.attempts", "retry.backoff", "retry.max_event_age", "timeout",
          "allow_overlap", "notify", "memory", "secrets", "env", "runtime")
# Where a field is declared in a workflow file, for file:line in refusals.
SOURCE_FIELD = {"timezone": "schedule", "memory": "function.memory_mb", "secrets": "function.secrets",
                "env": "function.env", "runtime": "function.runtime"}

LAMBDA_MAX_RETRIES = 2            # Lambda asynchronous invocation: MaximumRetryAttempts 0-2
LAMBDA_MAX_EVENT_AGE_S = 21600    # Lambda asynchronous invocation: MaximumEventAgeInSeconds 60-21600
LAMBDA_MAX_TIMEOUT_S = 900
SCHEDULER_MAX_EVENT_AGE_S = 86400  # EventBridge Scheduler RetryPolicy: 60-86400
AZURE_CONSUMPTION_MAX_TIMEOUT_S = 600
GCP_MAX_RETRIES = 5                # Cloud Scheduler retry_count 0-5
GCP_MAX_ATTEMPT_DEADLINE_S = 1800  # Cloud Scheduler HTTP attempt_deadline 15 s - 30 min
GCP_MIN_ATTEMPT_DEADLINE_S = 15
AZURE_PLAN_MEMORY_MB = {"consumption": 1536, "flex-consumption": 4096, "premium": 14336, "dedicated": 16384}
RESERVED_ENV = {
    "aws": ("AWS_", "LAMBDA_", "_HANDLER", "TZ", "LOCKSTEP_"),
    "azure": ("WEBSITE_", "FUNCTIONS_", "AZUREWEBJOBS", "APPLICATIONINSIGHTS_", "LOCKSTEP_"),
    "gcp": ("K_SERVICE", "K_REVISION", "K_CONFIGURATION", "PORT", "FUNCTION_", "LOCKSTEP_"),
    "onprem": ("LOCKSTEP_",),
}


@dataclass(frozen=True)
class Landing:
    """One canonical field on one target: the native value, its fidelity and why."""

    field: str
    target: str
    native: str
    fidelity: Fidelity
    reason: str = ""
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        """Return a JSON-ready mapping."""
        return {"field": self.field, "target": self.target, "native": self.native, "fidelity": self.fidelity,
                "reason": self.reason, "fix": self.fix}


Verdict = tuple[Fidelity, str, str]
Rule = Callable[[Workflow, StackConfig, Any], Verdict]
EXACT: Verdict = ("exact", "", "")


@lru_cache(maxsize=64)
def dst_hours(zone: str) -> frozenset[int]:
    """Return the local hours that a DST gap or overlap of the zone touches (this year and the next two)."""
    z, hours = ZoneInfo(zone), set()
    start = dt.datetime(dt.datetime.now(dt.UTC).year, 1, 1, tzinfo=dt.UTC)
    before = start.astimezone(z).utcoffset()
    for step in range(1, 3 * 366 * 24):
        t = start + dt.timedelta(hours=step)
        after = t.astimezone(z).utcoffset()
        if after != before and after is not None and before is not None:
            low, high = sorted(((t + before).replace(tzinfo=None), (t + after).replace(tzinfo=None)))
            while low < high:
                hours.add(low.hour)
                low += dt.timedelta(minutes=15)
        before = after
    return frozenset(hours)


def touches_dst(wf: Workflow) -> bool:
    """Tell whether a cron schedule fires at a local hour that a DST change of its zone moves or repeats."""
    if wf.schedule.kind != "cron":
        return False  # a rate counts absolute time
    return bool(parse_cron(wf.schedule.expression).hours & dst_hours(wf.schedule.timezone))


def _schedule(wf: Workflow, _s: StackConfig, native: Native | Refusal) -> Verdict:
    if isinstance(native, Refusal):
        return "impossible", native.reason, native.fix
    return "exact", "; ".join(native.notes), ""


def _zone_rule(gap: str, systemd_gap: str = "") -> Rule:
    def rule(wf: Workflow, _s: StackConfig, native: Native | Refusal) -> Verdict:
        if isinstance(native, Refusal):
            return "impossible", native.reason, native.fix
        differs = systemd_gap if native.platform == "systemd" else gap
        if not differs or not touches_dst(wf):
            return EXACT
        return "approximate", differs, ""
    return rule


def _aws_attempts(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if wf.retry.attempts - 1 > LAMBDA_MAX_RETRIES:
        return ("impossible", f"{wf.retry.attempts} attempts need {wf.retry.attempts - 1} retries; Lambda "
                f"asynchronous invocation retries at most {LAMBDA_MAX_RETRIES} times",
                f"use retry attempts <= {LAMBDA_MAX_RETRIES + 1}, or drop aws from targets")
    return EXACT


def _gcp_attempts(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if wf.retry.attempts - 1 > GCP_MAX_RETRIES:
        return ("impossible", f"Cloud Scheduler retry_count is at most {GCP_MAX_RETRIES}",
                f"use retry attempts <= {GCP_MAX_RETRIES + 1}, or drop gcp from targets")
    return EXACT


def _azure_attempts(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if wf.retry.attempts <= 1:
        return EXACT
    return ("approximate", "the timer trigger keeps the retry count in memory: after a host restart fewer "
            "retries may happen", "")


def _no_retries(wf: Workflow) -> bool:
    return wf.retry.attempts <= 1


def _aws_backoff(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if _no_retries(wf):
        return "exact", "no retries, so no backoff", ""
    return ("approximate", f"AWS backoff is not tunable: Lambda retries a failed asynchronous run after about 1 "
            f"minute, then about 2 minutes, not {wf.retry.backoff} from {wf.retry.delay_s} s", "")


def _azure_backoff(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if _no_retries(wf) or wf.retry.backoff == "fixed":
        return EXACT
    return "approximate", "Azure randomizes exponential_backoff intervals between the minimum and maximum", ""


def _aws_age(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if wf.retry.max_event_age_s > LAMBDA_MAX_EVENT_AGE_S:
        return ("approximate", f"Lambda keeps an asynchronous event at most {LAMBDA_MAX_EVENT_AGE_S} s; the "
                "scheduler's retry window keeps the full age", "")
    return EXACT


def _azure_age(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if _no_retries(wf):
        return EXACT
    return ("approximate", "Azure Functions has no maximum event age: retries stop only after the retry count",
            "")


def _gcp_age(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if _no_retries(wf):
        return EXACT
    return "approximate", "Cloud Scheduler also stops retrying when the next scheduled run starts", ""


def _aws_timeout(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if wf.timeout_s > LAMBDA_MAX_TIMEOUT_S:
        return ("impossible", f"timeout {wf.timeout_s} s exceeds Lambda's maximum of {LAMBDA_MAX_TIMEOUT_S} s "
                "(15 min)", "use timeout <= 15m, or drop aws from targets")
    return EXACT


def _azure_timeout(wf: Workflow, s: StackConfig, _n: object) -> Verdict:
    plan = azure_plan(wf, s)
    if plan == "consumption" and wf.timeout_s > AZURE_CONSUMPTION_MAX_TIMEOUT_S:
        return ("impossible", f"timeout {wf.timeout_s} s exceeds the Azure Consumption plan's maximum "
                f"functionTimeout of {AZURE_CONSUMPTION_MAX_TIMEOUT_S} s (10 min)",
                "use timeout <= 10m, or a premium / flex-consumption / dedicated plan")
    return EXACT


def _gcp_timeout(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if wf.timeout_s > GCP_MAX_ATTEMPT_DEADLINE_S:
        return ("impossible", f"Cloud Scheduler's HTTP attempt_deadline is at most {GCP_MAX_ATTEMPT_DEADLINE_S} s, "
                f"shorter than the timeout {wf.timeout_s} s: a still-running attempt would be retried (duplicates)",
                "use timeout <= 30m, or drop gcp from targets")
    return EXACT


def _overlap(never: str, forbid: Verdict) -> Rule:
    def rule(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
        if wf.allow_overlap:
            return ("approximate", never, "") if never else EXACT
        return forbid
    return rule


def _notify(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
    if any(n.kind == "webhook" for n in wf.notify):
        return ("approximate", "a webhook URL is a secret and never enters IaC state: failures reach the "
                "workflow's notification topic, and the webhook endpoint must be subscribed from the secret store "
                "(see docs/components.md)", "")
    return EXACT


def _aws_notify(wf: Workflow, s: StackConfig, n: object) -> Verdict:
    verdict = _notify(wf, s, n)
    email = "e-mail recipients must confirm the SNS subscription once"
    if any(x.kind == "email" for x in wf.notify):
        return "approximate", "; ".join(filter(None, (email, verdict[1]))), ""
    return verdict


def _azure_memory(wf: Workflow, s: StackConfig, _n: object) -> Verdict:
    plan, mb = azure_plan(wf, s), wf.local("azure", "memory_mb")
    assert isinstance(mb, int)
    if mb > AZURE_PLAN_MEMORY_MB[plan]:
        return ("impossible", f"memory {mb} MB exceeds what an instance of the {plan} plan offers "
                f"({AZURE_PLAN_MEMORY_MB[plan]} MB)", "lower memory_mb, or choose a larger plan in the stack")
    return "approximate", f"the {plan} plan sizes memory per instance; Azure has no per-function memory limit", ""


def _azure_secrets(wf: Workflow, s: StackConfig, _n: object) -> Verdict:
    if wf.function.secrets and not (s.azure and s.azure.key_vault and s.azure.resource_group):
        return ("impossible", f"Key Vault references need a vault, and stack {s.name!r} names none",
                f"set lockstep:azure.keyVault and lockstep:azure.resourceGroup (the vault's group) in {s.path}")
    return EXACT


def _env(target: str) -> Rule:
    def rule(wf: Workflow, _s: StackConfig, _n: object) -> Verdict:
        names = (*wf.function.env, *wf.function.secrets)
        clash = [k for k in names if k.upper().startswith(RESERVED_ENV[target])]
        if clash:
            return ("impossible", f"{', '.join(clash)} collide with names {target} reserves",
                    "rename the variables")
        return EXACT
    return rule


def _azure_runtime(wf: Workflow, s: StackConfig, _n: object) -> Verdict:
    if s.azure and s.azure.os == "windows":
        return ("impossible", "Azure Functions runs Python only on Linux", "use lockstep:azure.os: linux")
    if azure_plan(wf, s) == "flex-consumption":
        return ("impossible", "Lockstep's Azure component runs the package from a blob URL "
                "(WEBSITE_RUN_FROM_PACKAGE), which Flex Consumption does not support",
                "use the consumption, premium or dedicated plan")
    return EXACT


def _const(verdict: Verdict) -> Rule:
    return lambda _w, _s, _n: verdict


def azure_plan(wf: Workflow, stack: StackConfig) -> str:
    """Return the Azure plan a workflow uses: its local override, else the stack's."""
    local = wf.local("azure", "plan")
    return str(local) if local else (stack.azure.plan if stack.azure else "premium")


_GAP_AWS = "EventBridge Scheduler skips a wall time inside a DST gap; the canonical schedule fires it shifted forward"
_GAP_GCP = "Cloud Scheduler leaves DST-gap and overlap behaviour unspecified"
_GAP_SD = "systemd skips a wall time inside a DST gap and drops the repeated hour of interval schedules"
_ONPREM_MEM = "an address-space limit (RLIMIT_AS) on the runner, not resident memory"
RULES: Mapping[str, Mapping[str, Rule]] = {
    "schedule": {t: _schedule for t in ("aws", "azure", "gcp", "onprem")},
    "timezone": {"aws": _zone_rule(_GAP_AWS), "azure": _zone_rule(""), "gcp": _zone_rule(_GAP_GCP),
                 "onprem": _zone_rule("", _GAP_SD)},
    "retry.attempts": {"aws": _aws_attempts, "azure": _azure_attempts, "gcp": _gcp_attempts, "onprem": _const(EXACT)},
    "retry.backoff": {"aws": _aws_backoff, "azure": _azure_backoff, "gcp": _const(EXACT), "onprem": _const(EXACT)},
    "retry.max_event_age": {"aws": _aws_age, "azure": _azure_age, "gcp": _gcp_age, "onprem": _const(EXACT)},
    "timeout": {"aws": _aws_timeout, "azure": _azure_timeout, "gcp": _gcp_timeout, "onprem": _const(EXACT)},
    "allow_overlap": {
        "aws": _overlap("", ("approximate", "reserved concurrency 1: an overlapping run is throttled and retried "
                                            "later by Lambda's asynchronous queue, not skipped", "")),
        "azure": _overlap("a timer trigger never overlaps itself", EXACT),
        "gcp": _overlap("Cloud Scheduler never runs two attempts of a job at once", EXACT),
        "onprem": _overlap("", ("approximate", "an overlapping run is skipped (run lock), not delayed", "")),
    },
    "notify": {"aws": _aws_notify, "azure": _notify, "gcp": _notify, "onprem": _const(EXACT)},
    "memory": {"aws": _const(EXACT), "azure": _azure_memory, "gcp": _const(EXACT),
               "onprem": _const(("approximate", _ONPREM_MEM, ""))},
    "secrets": {"aws": _const(("exact", "resolved from Secrets Manager at cold start by the Lockstep shim", "")),
                "azure": _azure_secrets, "gcp": _const(EXACT), "onprem": _const(EXACT)},
    "env": {t: _env(t) for t in ("aws", "azure", "gcp", "onprem")},
    "runtime": {"aws": _const(EXACT), "azure": _azure_runtime, "gcp": _const(EXACT),
                "onprem": _const(("approximate", "the host's python3 runs the code; its version is the host's", ""))},
}


def show(value: object, field: str = "") -> str:
    """Render a native value for a table."""
    if isinstance(value, Native) and field == "timezone":
        return f"{value.timezone or '(none: UTC)'} ({value.platform})"
    if isinstance(value, Native):
        zone = f" [{value.timezone}]" if value.timezone else ""
        return f"{value.expression}{zone}"
    if isinstance(value, Refusal):
        return "(refused)"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(none)"
    return "(none)" if value is None else str(value)


def assess(wf: Workflow, stack: StackConfig, target: str) -> list[Landing]:
    """Return how every canonical field of a workflow lands on one target."""
    from infra.targets import TARGET_MODULES  # the targets import this module's limits

    native = TARGET_MODULES[target].translate(wf, stack)
    out = []
    for name in FIELDS:
        fidelity, reason, fix = RULES[name][target](wf, stack, native.get(name))
        out.append(Landing(name, target, show(native.get(name), name), fidelity, reason, fix))
    return out


def refusals(wf: Workflow, stack: StackConfig, target: str) -> list[SpecError]:
    """Return one SpecError per field that is impossible on the target."""
    errors, seen = [], set()
    for landing in assess(wf, stack, target):
        if landing.fidelity == "impossible" and landing.reason not in seen:  # a zone refusal shows once
            seen.add(landing.reason)
            source = SOURCE_FIELD.get(landing.field, landing.field)
            errors.append(SpecError(wf.location.path, wf.line_of(source), landing.field, _value(wf, landing.field),
                                    f"is impossible on {target} (workflow {wf.name!r}, stack {stack.name!r}): "
                                    f"{landing.reason}", landing.fix))
    return errors


def require(wf: Workflow, stack: StackConfig, target: str) -> None:
    """Raise SpecInvalid (a LockstepError) when a field cannot land on the target."""
    errors = refusals(wf, stack, target)
    if errors:
        raise SpecInvalid(errors)


def _value(wf: Workflow, name: str) -> object:
    values: dict[str, object] = {
        "schedule": wf.schedule.expression, "timezone": wf.schedule.timezone, "retry.attempts": wf.retry.attempts,
        "retry.backoff": wf.retry.backoff, "retry.max_event_age": wf.retry.max_event_age_s, "timeout": wf.timeout_s,
        "allow_overlap": wf.allow_overlap, "notify": [n.describe() for n in wf.notify],
        "memory": wf.function.memory_mb, "secrets": sorted(wf.function.secrets), "env": sorted(wf.function.env),
        "runtime": wf.function.runtime,
    }
    return values[name]
