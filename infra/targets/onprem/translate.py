"""The workflow on an on-prem host as typed data: the host, the line its scheduler gets, and the runner's settings.

On-prem, Lockstep's own runner implements the canonical fields, so the native form is the canonical spec itself
(`spec`, what the dynamic resource carries to the host) plus the host's scheduler line. `from_spec` derives every
typed attribute from those, for the declared workflow (`translate`) and for what was registered (`normalize`) alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.digest import canonical_fields, digest_of
from infra.model import OnpremHost, Schedule, StackConfig, Workflow
from infra.schedule.hostform import HostFormError, host_form
from infra.schedule.translate import Native, Refusal
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import identity
from infra.targets import common
from infra.targets.base import EXACT, Fidelity, NormalizeError, Translation, approximate, native
from infra.targets.onprem import facts


@dataclass(frozen=True)
class OnpremDesired:
    """One workflow on its host: the scheduler line that starts the runner, and what the runner enforces."""

    host: str = native("host")
    address: str = native("host")
    scheduler: str = native("host")
    host_timezone: str = native("host")
    schedule: str = native("schedule")          # crontab time fields or OnCalendar, in `schedule_zone`
    schedule_zone: str = native("timezone")
    timezone: str = native("timezone")          # the canonical zone the runner's guard fires in
    start: str | None = native("schedule.start")
    end: str | None = native("schedule.end")
    attempts: int = native("retry.attempts")
    backoff: str = native("retry.backoff")
    delay_s: int = native("retry.backoff")
    max_delay_s: int = native("retry.backoff")
    max_event_age_s: int = native("retry.max_event_age")
    timeout_s: int = native("timeout")
    run_lock: bool = native("allow_overlap")
    notify: tuple[str, ...] = native("notify")
    memory_mb: int = native("memory")
    secrets: Mapping[str, str] = native("secrets")  # variable -> secret name in the workflow's secrets directory
    env: Mapping[str, str] = native("env")
    runtime: str = native("runtime")
    entry: str = native("entry")
    code_digest: str = native("code")
    spec_digest: str = native("spec")               # infra.digest of `spec`: any other change to it shows here
    spec: Mapping[str, Any] = native("spec", compared=False)  # the canonical fields the runner executes
    stamps: Mapping[str, str] = native("stamps")

    def native_schedule(self) -> Native | Refusal:
        """Return the host's schedule (line, zone and the runner's guard) as the fire-time model evaluates it."""
        s = self.spec["schedule"]
        bound = [dt.datetime.fromisoformat(v) if v else None for v in (s.get("start"), s.get("end"))]
        schedule = Schedule(s["kind"], s["expression"], s["timezone"], bound[0], bound[1])
        return translate_schedule(schedule, self.scheduler, host_timezone=self.host_timezone)


def host_of(wf: Workflow, stack: StackConfig) -> OnpremHost:
    """Return the host a workflow runs on: its local `host`, else the stack's first host."""
    assert stack.onprem is not None
    name = wf.host_in(stack.name)
    host = stack.onprem.host(name) if name is not None else stack.onprem.hosts[0]
    if host is None:  # the loader reports unknown hosts; this guards callers that skipped it
        raise ValueError(f"workflow {wf.name!r}: host {name!r} is not in stack {stack.name!r}")
    return host


def from_spec(spec: Mapping[str, Any], host: Mapping[str, Any], memory_mb: int, code_digest: str,
              stamps: Mapping[str, str]) -> OnpremDesired:
    """Return the desired state of a canonical spec (plain JSON) deployed on a host (name, address, scheduler, zone)."""
    try:
        s, fn, r = spec["schedule"], spec["function"], spec["retry"]
        form = host_form(s["kind"], s["expression"], s["timezone"], s.get("start"), s.get("end"),
                         str(host["scheduler"]), str(host["timezone"]))
        return OnpremDesired(
            host=str(host["name"]), address=str(host["address"]), scheduler=str(host["scheduler"]),
            host_timezone=str(host["timezone"]),
            schedule=form.expression, schedule_zone=form.timezone, timezone=str(s["timezone"]),
            start=s.get("start"), end=s.get("end"), attempts=int(r["attempts"]), backoff=str(r["backoff"]),
            delay_s=int(r["delay_s"]), max_delay_s=int(r["max_delay_s"]), max_event_age_s=int(r["max_event_age_s"]),
            timeout_s=int(spec["timeout_s"]), run_lock=not spec["allow_overlap"],
            notify=tuple(str(n) for n in spec["notify"]), memory_mb=int(memory_mb),
            secrets={str(k): str(v) for k, v in sorted(fn["secrets"].items())},
            env={str(k): str(v) for k, v in sorted(fn["env"].items())}, runtime=str(fn["runtime"]),
            entry=str(fn["entry"]), code_digest=code_digest, spec_digest=digest_of(spec), spec=spec,
            stamps=dict(stamps))
    except (KeyError, TypeError, ValueError, HostFormError) as exc:
        raise NormalizeError(f"the on-prem spec cannot be read: {exc}") from exc


def translate(wf: Workflow, stack: StackConfig) -> Translation[OnpremDesired]:
    """Return the workflow's desired state on its on-prem host and each canonical field's fidelity."""
    host = host_of(wf, stack)
    sched = translate_schedule(wf.schedule, host.scheduler, host_timezone=host.timezone)
    memory = wf.local("onprem", "memory_mb")
    spec = _plain(canonical_fields(wf))
    where = {"name": host.name, "address": host.address, "scheduler": host.scheduler, "timezone": host.timezone}
    if isinstance(sched, Refusal):  # nothing to derive a host line from; the fidelity says why
        desired = OnpremDesired(host.name, host.address, host.scheduler, host.timezone, "", host.timezone,
                                wf.schedule.timezone,
                                None, None, 0, "", 0, 0, 0, 0, False, (), 0, {}, {}, "", "", "", "", spec, {})
    else:
        desired = from_spec(spec, where, memory if isinstance(memory, int) else wf.function.memory_mb,
                            wf.code_digest, identity(wf, "onprem"))
    return Translation("onprem", desired, _fidelity(wf, sched))


def _plain(value: Any) -> Any:
    """Return JSON data as the engine carries it: every number a float turns back into an int where whole."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain_spec(value: Any) -> Any:
    """Return a registered spec in the form `translate` produces (sorted keys, whole numbers as int).

    The engine drops properties whose value is null, so an unbounded schedule's `start` and `end` come back absent.
    """
    spec = _plain(value)
    if isinstance(spec, dict) and isinstance(spec.get("schedule"), dict):
        spec["schedule"] = _plain({"start": None, "end": None, **spec["schedule"]})
    return spec


def _fidelity(wf: Workflow, sched: Native | Refusal) -> dict[str, Fidelity]:
    dst = facts.SYSTEMD_DST_GAP if isinstance(sched, Native) and sched.platform == "systemd" else ""
    return {
        "schedule": common.schedule_fidelity(sched), "timezone": common.zone_fidelity(wf, sched, dst),
        "retry.attempts": EXACT, "retry.backoff": EXACT, "retry.max_event_age": EXACT, "timeout": EXACT,
        "allow_overlap": EXACT if wf.allow_overlap else approximate(facts.OVERLAP), "notify": EXACT,
        "memory": approximate(facts.MEMORY), "secrets": EXACT,
        "env": common.env_fidelity(wf, "onprem", facts.RESERVED_ENV), "runtime": approximate(facts.RUNTIME),
    }
