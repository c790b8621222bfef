"""The workflow on GCP as typed data: what the component deploys, and how faithfully each canonical field lands."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from infra import naming
from infra.imports import NO_CHILDREN, Children, physical_name
from infra.model import StackConfig, Workflow
from infra.schedule.translate import Native, Refusal
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import identity
from infra.targets import common
from infra.targets.base import EXACT, Fidelity, Translation, approximate, impossible, native
from infra.targets.gcp import facts

DEADLINE_MARGIN_S = 30


@dataclass(frozen=True)
class GcpDesired:
    """One workflow on GCP: a Cloud Scheduler job calling a private HTTP Cloud Function (2nd gen) with OIDC."""

    project: str = native("project")
    region: str = native("region")
    schedule: str = native("schedule")
    time_zone: str | None = native("timezone")
    retry_count: int = native("retry.attempts")
    min_backoff: str = native("retry.backoff")
    max_backoff: str = native("retry.backoff")
    max_doublings: int = native("retry.backoff")
    max_retry_duration: str = native("retry.max_event_age")
    timeout_s: int = native("timeout")
    attempt_deadline: str = native("timeout")
    max_instance_count: int = native("allow_overlap")
    max_instance_request_concurrency: int = native("allow_overlap")
    email_channels: tuple[str, ...] = native("notify")
    memory: str = native("memory")
    cpu: str | None = native("memory")
    secrets: Mapping[str, str] = native("secrets")   # variable -> "<secret>:<version>"
    env: Mapping[str, str] = native("env")
    runtime: str = native("runtime")
    entry: str = native("entry")
    code_digest: str = native("code")
    stamps: Mapping[str, str] = native("stamps")

    def native_schedule(self) -> Native:
        """Return the schedule as the fire-time model evaluates it."""
        return Native("gcp", self.schedule, self.time_zone)


def attempt_deadline(timeout_s: int) -> int:
    """Return Cloud Scheduler's attempt deadline: at least the function timeout, within 15 s - 30 min."""
    return max(facts.MIN_ATTEMPT_DEADLINE_S, min(timeout_s + DEADLINE_MARGIN_S, facts.MAX_ATTEMPT_DEADLINE_S),
               timeout_s)


def cpu_for(memory_mb: int) -> str | None:
    """Return the CPU a memory size needs on Cloud Run (1 vCPU serves at most 4 GiB), or None for the default."""
    return None if memory_mb <= 4096 else ("2" if memory_mb <= 8192 else "4")


@dataclass(frozen=True)
class GcpNames:
    """The physical (short) names of one workflow's GCP job and function on a stack, as the component gives them."""

    job: str
    function: str


def names(stack: str, workflow: str, live: Children = NO_CHILDREN) -> GcpNames:
    """Return the job's and function's names: Lockstep's, or the live ones the workflow's import record keeps.

    The component deploys under these names, and the live reader and the audit-log lookup look them up by them.
    """
    base = naming.physical("lockstep", stack, workflow, limit=63)
    return GcpNames(job=physical_name(live, "job", base), function=physical_name(live, "function", base))


def translate(wf: Workflow, stack: StackConfig) -> Translation[GcpDesired]:
    """Return the workflow's desired state on GCP and each canonical field's fidelity."""
    assert stack.gcp is not None
    sched = translate_schedule(wf.schedule, "gcp")
    r = wf.retry
    memory = wf.local("gcp", "memory_mb")
    assert isinstance(memory, int)
    desired = GcpDesired(
        project=stack.gcp.project, region=str(wf.local("gcp", "region") or stack.gcp.region),
        schedule=sched.expression if isinstance(sched, Native) else "",
        time_zone=sched.timezone if isinstance(sched, Native) else None,
        retry_count=r.attempts - 1, min_backoff=f"{r.delay_s}s",
        max_backoff=f"{r.delay_s if r.backoff == 'fixed' else r.max_delay_s}s",
        max_doublings=0 if r.backoff == "fixed" else max(0, math.ceil(math.log2(r.max_delay_s / r.delay_s))),
        max_retry_duration=f"{r.max_event_age_s}s", timeout_s=wf.timeout_s,
        attempt_deadline=f"{attempt_deadline(wf.timeout_s)}s",
        max_instance_count=100 if wf.allow_overlap else 1, max_instance_request_concurrency=1,
        email_channels=tuple(sorted(common.emails(wf))), memory=f"{memory}Mi", cpu=cpu_for(memory),
        secrets={k: f"{v.name}:latest" for k, v in sorted(wf.function.secrets.items())},
        env=dict(sorted(wf.function.env.items())), runtime=wf.function.runtime.replace(".", ""),
        entry=wf.function.entry, code_digest=wf.code_digest, stamps=identity(wf, "gcp"))
    return Translation("gcp", desired, _fidelity(wf, sched))


def _fidelity(wf: Workflow, sched: Native | Refusal) -> dict[str, Fidelity]:
    retried = not common.no_retries(wf)
    return {
        "schedule": common.schedule_fidelity(sched), "timezone": common.zone_fidelity(wf, sched, facts.DST_GAP),
        "retry.attempts": _attempts(wf), "retry.backoff": EXACT,
        "retry.max_event_age": approximate("Cloud Scheduler also stops retrying when the next scheduled run "
                                           "starts") if retried else EXACT,
        "timeout": _timeout(wf),
        "allow_overlap": approximate("Cloud Scheduler never runs two attempts of a job at once") if wf.allow_overlap
        else EXACT,
        "notify": common.webhook_fidelity(wf, "the workflow's alert policy"), "memory": EXACT, "secrets": EXACT,
        "env": common.env_fidelity(wf, "gcp", facts.RESERVED_ENV), "runtime": EXACT,
    }


def _attempts(wf: Workflow) -> Fidelity:
    if wf.retry.attempts - 1 > facts.MAX_RETRIES:
        return impossible("limit", f"Cloud Scheduler retry_count is at most {facts.MAX_RETRIES}",
                          f"use retry attempts <= {facts.MAX_RETRIES + 1}, or drop gcp from targets")
    return EXACT


def _timeout(wf: Workflow) -> Fidelity:
    if wf.timeout_s > facts.MAX_ATTEMPT_DEADLINE_S:
        return impossible("limit", f"Cloud Scheduler's HTTP attempt_deadline is at most "
                          f"{facts.MAX_ATTEMPT_DEADLINE_S} s, shorter than the timeout {wf.timeout_s} s: a "
                          "still-running attempt would be retried (duplicates)",
                          "use timeout <= 30m, or drop gcp from targets")
    return EXACT
