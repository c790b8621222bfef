"""The workflow on AWS as typed data: what the component deploys, and how faithfully each canonical field lands."""

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
from infra.targets.aws import facts
from infra.targets.base import EXACT, Fidelity, Translation, approximate, impossible, native


@dataclass(frozen=True)
class AwsDesired:
    """One workflow on AWS: an EventBridge Scheduler schedule invoking a Lambda function asynchronously."""

    region: str = native("region")
    schedule_expression: str = native("schedule")
    schedule_timezone: str | None = native("timezone")
    start_date: str | None = native("schedule.start")
    end_date: str | None = native("schedule.end")
    scheduler_retries: int = native("retry.attempts")        # the schedule's RetryPolicy (delivery)
    lambda_retries: int = native("retry.attempts")           # the function's asynchronous invoke config
    scheduler_max_event_age_s: int = native("retry.max_event_age")
    lambda_max_event_age_s: int = native("retry.max_event_age")
    timeout_s: int = native("timeout")
    reserved_concurrency: int | None = native("allow_overlap")
    email_subscriptions: tuple[str, ...] = native("notify")
    webhook_secrets: tuple[str, ...] = native("notify")     # secret names the alerts topic carries for subscription
    memory_mb: int = native("memory")
    secrets: Mapping[str, str] = native("secrets")           # variable -> Secrets Manager secret id
    env: Mapping[str, str] = native("env")
    runtime: str = native("runtime")
    entry: str = native("entry")
    code_digest: str = native("code")
    stamps: Mapping[str, str] = native("stamps")

    def native_schedule(self) -> Native:
        """Return the schedule as the fire-time model evaluates it (expression, zone, StartDate/EndDate)."""
        bounds = {k: v for k, v in (("StartDate", self.start_date), ("EndDate", self.end_date)) if v}
        return Native("aws", self.schedule_expression, self.schedule_timezone, bounds)


@dataclass(frozen=True)
class AwsNames:
    """The physical names of one workflow's AWS children on a stack, as the component gives them."""

    function: str
    logs: str
    schedule: str
    group: str
    owns_group: bool  # False when an adopted schedule stays in a live group its record does not adopt (shared)
    topic: str


def names(stack: str, workflow: str, live: Children = NO_CHILDREN) -> AwsNames:
    """Return the physical names of a workflow's children: Lockstep's, or the live ones its import record keeps.

    The component deploys under these names, and the live reader and the CloudTrail lookup look them up by them.
    """
    base = naming.physical("lockstep", stack, workflow, limit=64)
    function = physical_name(live, "function", base)
    group = physical_name(live, "schedule", base, "group")
    return AwsNames(function=function, logs=physical_name(live, "logs", f"/aws/lambda/{function}"),
                    schedule=physical_name(live, "schedule", base),
                    group=physical_name(live, "schedules", group),
                    owns_group="schedule" not in live or "schedules" in live,
                    topic=naming.physical("lockstep", stack, workflow, "alerts", limit=256))


def translate(wf: Workflow, stack: StackConfig) -> Translation[AwsDesired]:
    """Return the workflow's desired state on AWS and each canonical field's fidelity."""
    assert stack.aws is not None
    sched = translate_schedule(wf.schedule, "aws")
    retries = wf.retry.attempts - 1
    memory = wf.local("aws", "memory_mb")
    assert isinstance(memory, int)
    desired = AwsDesired(
        region=str(wf.local("aws", "region") or stack.aws.region),
        schedule_expression=sched.expression if isinstance(sched, Native) else "",
        schedule_timezone=sched.timezone if isinstance(sched, Native) else None,
        start_date=common.iso_utc(wf.schedule.start), end_date=common.iso_utc(wf.schedule.end),
        scheduler_retries=retries, lambda_retries=min(retries, facts.LAMBDA_MAX_RETRIES),
        scheduler_max_event_age_s=min(wf.retry.max_event_age_s, facts.SCHEDULER_MAX_EVENT_AGE_S),
        lambda_max_event_age_s=min(wf.retry.max_event_age_s, facts.LAMBDA_MAX_EVENT_AGE_S),
        timeout_s=wf.timeout_s, reserved_concurrency=None if wf.allow_overlap else 1,
        email_subscriptions=tuple(sorted(common.emails(wf))),
        webhook_secrets=tuple(sorted(common.webhook_secrets(wf))), memory_mb=memory,
        secrets={k: f"lockstep/{v.name}" for k, v in sorted(wf.function.secrets.items())},
        env=dict(sorted(wf.function.env.items())), runtime=wf.function.runtime, entry=wf.function.entry,
        code_digest=wf.code_digest, stamps=identity(wf, "aws"))
    return Translation("aws", desired, _fidelity(wf, sched))


def _fidelity(wf: Workflow, sched: Native | Refusal) -> dict[str, Fidelity]:
    return {
        "schedule": common.schedule_fidelity(sched), "timezone": common.zone_fidelity(wf, sched, facts.DST_GAP),
        "retry.attempts": _attempts(wf), "retry.backoff": _backoff(wf), "retry.max_event_age": _age(wf),
        "timeout": _timeout(wf),
        "allow_overlap": EXACT if wf.allow_overlap else approximate(
            "reserved concurrency 1: an overlapping run is throttled and retried later by Lambda's asynchronous "
            "queue, not skipped"),
        "notify": _notify(wf), "memory": EXACT,
        "secrets": Fidelity("exact", "resolved from Secrets Manager at cold start by the Lockstep shim"),
        "env": common.env_fidelity(wf, "aws", facts.RESERVED_ENV), "runtime": EXACT,
    }


def _attempts(wf: Workflow) -> Fidelity:
    if wf.retry.attempts - 1 > facts.LAMBDA_MAX_RETRIES:
        return impossible("limit", f"{wf.retry.attempts} attempts need {wf.retry.attempts - 1} retries; Lambda "
                          f"asynchronous invocation retries at most {facts.LAMBDA_MAX_RETRIES} times",
                          f"use retry attempts <= {facts.LAMBDA_MAX_RETRIES + 1}, or drop aws from targets")
    return EXACT


def _backoff(wf: Workflow) -> Fidelity:
    if common.no_retries(wf):
        return Fidelity("exact", "no retries, so no backoff")
    return approximate(f"AWS backoff is not tunable: Lambda retries a failed asynchronous run after about 1 minute, "
                       f"then about 2 minutes, not {wf.retry.backoff} from {wf.retry.delay_s} s")


def _age(wf: Workflow) -> Fidelity:
    if wf.retry.max_event_age_s > facts.LAMBDA_MAX_EVENT_AGE_S:
        return approximate(f"Lambda keeps an asynchronous event at most {facts.LAMBDA_MAX_EVENT_AGE_S} s; the "
                           "scheduler's retry window keeps the full age")
    return EXACT


def _timeout(wf: Workflow) -> Fidelity:
    if wf.timeout_s > facts.LAMBDA_MAX_TIMEOUT_S:
        return impossible("limit", f"timeout {wf.timeout_s} s exceeds Lambda's maximum of "
                          f"{facts.LAMBDA_MAX_TIMEOUT_S} s (15 min)", "use timeout <= 15m, or drop aws from targets")
    return EXACT


def _notify(wf: Workflow) -> Fidelity:
    webhook = common.webhook_fidelity(wf, "the workflow's SNS topic")
    if common.emails(wf):
        email = "e-mail recipients must confirm the SNS subscription once"
        return approximate("; ".join(filter(None, (email, webhook.reason))))
    return webhook
