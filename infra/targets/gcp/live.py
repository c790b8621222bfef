"""Read what GCP runs for each workflow through the Google Cloud client libraries, mapped onto Pulumi's properties.

One call per resource: Cloud Scheduler `get_job`, Functions v2 `get_function`, and one Monitoring
`list_notification_channels` per workflow (filtered on its stamp); plus one `list_jobs` per project and region to
find stamped jobs no workflow claims. Application Default Credentials apply; `connect` carries client keyword
arguments (credentials, transport, client_options) for an emulator.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import warnings
from collections.abc import Mapping
from typing import Any

# google-api-core warns on every import under Python 3.11 about a support date two years away; users need no line.
warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core._python_version_support")

from google.api_core import exceptions as gexc  # noqa: E402
from google.api_core import retry as gretry  # noqa: E402
from google.cloud import functions_v2, scheduler_v1  # noqa: E402

from infra import naming  # noqa: E402
from infra.model import StackConfig  # noqa: E402
from infra.targets.base import Observed  # noqa: E402
from infra.targets.discovered import Discovered, Discovery, code_of  # noqa: E402
from infra.targets.gcp.normalize import CHANNEL, FUNCTION, JOB  # noqa: E402
from infra.targets.gcp.translate import GcpDesired  # noqa: E402
from infra.targets.liveread import Counter, LiveRead, NotDeployed, Unmanaged, Wanted, read_each  # noqa: E402

# Throttling (429) and transient server errors are retried with exponential backoff, bounded in time.
RETRY = gretry.Retry(initial=0.2, maximum=5.0, multiplier=2.0, timeout=30.0,
                     predicate=gretry.if_exception_type(gexc.TooManyRequests, gexc.ServiceUnavailable,
                                                        gexc.InternalServerError))


class _Clients:
    """One client per API, created on first use, counting the calls made through it."""

    def __init__(self, connect: Mapping[str, Any], out: LiveRead) -> None:
        self._kw, self._count = dict(connect), Counter(out)
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def call(self, api: str, method: str, **kw: Any) -> Any:
        """Call one API method with the bounded retry."""
        with self._lock:  # readers run in threads; the clients are thread-safe once made
            if api not in self._made:
                self._made[api] = _client(api, self._kw)
        self._count.add()
        return getattr(self._made[api], method)(retry=RETRY, timeout=20.0, **kw)


def _client(api: str, kw: Mapping[str, Any]) -> Any:
    if api == "scheduler":
        return scheduler_v1.CloudSchedulerClient(**kw)
    if api == "functions":
        return functions_v2.FunctionServiceClient(**kw)
    from google.cloud import monitoring_v3  # gRPC-only: imported only when channels are read

    return monitoring_v3.NotificationChannelServiceClient(**{k: v for k, v in kw.items() if k != "transport"})


def read_live(stack: StackConfig, wanted: Mapping[str, Wanted], connect: Mapping[str, Any]) -> LiveRead:
    """Return the live GCP resources of every wanted workflow, and stamped jobs none of them claims."""
    out = LiveRead("gcp")
    clients = _Clients(connect, out)
    read_each(out, wanted, lambda w: _workflow(clients, stack, w), _why)
    places = {(w.desired.project, w.desired.region) for w in wanted.values()}
    if stack.gcp:
        places.add((stack.gcp.project, stack.gcp.region))
    claimed = {base_name(stack, w) for w in wanted}
    for project, region in sorted(places):
        try:
            out.unmanaged.extend(_unmanaged(clients, stack, project, region, claimed))
        except gexc.GoogleAPIError as exc:
            out.error = f"listing scheduler jobs in {project}/{region}: {_why(exc)}"
    return out


def base_name(stack: StackConfig, workflow: str) -> str:
    """Return the physical name the component gives the job and the function."""
    return naming.physical("lockstep", stack.name, workflow, limit=63)


def _workflow(clients: _Clients, stack: StackConfig, want: Wanted) -> list[Observed]:
    d: GcpDesired = want.desired
    base = base_name(stack, want.workflow)
    where = f"projects/{d.project}/locations/{d.region}"
    job = _get(lambda: clients.call("scheduler", "get_job", name=f"{where}/jobs/{base}"), f"scheduler job {base}")
    fn = _get(lambda: clients.call("functions", "get_function", name=f"{where}/functions/{base}"),
              f"function {base}")
    channels = clients.call("monitoring", "list_notification_channels", request={
        "name": f"projects/{d.project}", "filter": f'user_labels."lockstep-workflow" = "{want.workflow}"'})
    return [Observed(JOB, base, _job_props(job, d.region)), Observed(FUNCTION, base, _function_props(fn, d)),
            *(Observed(CHANNEL, c.name, {"type": c.type_, "labels": dict(c.labels)}) for c in channels
              if c.user_labels.get("lockstep-workflow") == want.workflow)]  # also where the filter is ignored


def _job_props(job: Any, region: str) -> dict[str, Any]:
    r = job.retry_config
    return {"region": region, "schedule": job.schedule, "timeZone": job.time_zone or None,
            "description": job.description, "attemptDeadline": _duration(job.attempt_deadline),
            "state": scheduler_v1.Job.State(job.state).name,
            "retryConfig": {"retryCount": r.retry_count, "minBackoffDuration": _duration(r.min_backoff_duration),
                            "maxBackoffDuration": _duration(r.max_backoff_duration),
                            "maxDoublings": r.max_doublings, "maxRetryDuration": _duration(r.max_retry_duration)}}


def _function_props(fn: Any, d: GcpDesired) -> dict[str, Any]:
    s = fn.service_config
    return {"project": d.project, "labels": dict(fn.labels), "description": fn.description,
            "buildConfig": {"runtime": fn.build_config.runtime, "entryPoint": fn.build_config.entry_point},
            "serviceConfig": {
                "environmentVariables": dict(s.environment_variables),
                "secretEnvironmentVariables": [{"key": v.key, "secret": v.secret, "version": v.version}
                                               for v in s.secret_environment_variables],
                "timeoutSeconds": s.timeout_seconds or None, "maxInstanceCount": s.max_instance_count or None,
                "maxInstanceRequestConcurrency": s.max_instance_request_concurrency or None,
                "availableMemory": s.available_memory or None, "availableCpu": s.available_cpu or None}}


def _duration(value: Any) -> str | None:
    """Return a protobuf Duration (a timedelta in proto-plus) in Pulumi's "<seconds>s" form."""
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds}s"


def _unmanaged(clients: _Clients, stack: StackConfig, project: str, region: str,
               claimed: set[str]) -> list[Unmanaged]:
    prefix = naming.physical("lockstep", stack.name, limit=63) + "-"
    found = []
    for job in clients.call("scheduler", "list_jobs", parent=f"projects/{project}/locations/{region}"):
        short = job.name.rsplit("/", 1)[-1]
        if short in claimed or not (short.startswith(prefix) or "lockstep-workflow=" in job.description):
            continue
        stamp = next((w.split("=", 1)[1] for w in job.description.split() if w.startswith("lockstep-workflow=")), "")
        found.append(Unmanaged("gcp", "scheduler job", short, stamp))
    return found


def _get(call: Any, what: str) -> Any:
    try:
        return call()
    except gexc.NotFound as exc:
        raise NotDeployed(f"{what} does not exist") from exc


def _why(exc: BaseException) -> str | None:
    if isinstance(exc, gexc.GoogleAPIError):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (ConnectionError, OSError)):
        return f"cannot reach the API: {exc}"
    return None


def connect_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Return client overrides for an emulator ($LOCKSTEP_GCP_ENDPOINT_URL, anonymous, REST); empty: Google."""
    url = env.get("LOCKSTEP_GCP_ENDPOINT_URL")
    if not url:
        return {}
    from google.auth.credentials import AnonymousCredentials

    anonymous: Any = AnonymousCredentials()  # type: ignore[no-untyped-call]
    return {"credentials": anonymous, "transport": "rest", "client_options": {"api_endpoint": url}}


def discover(stack: StackConfig, connect: Mapping[str, Any],
             places: tuple[tuple[str, str], ...] = ()) -> Discovery:
    """Return every Cloud Scheduler job of the (project, region) places, with the function it calls over HTTP."""
    out, read = Discovery("gcp"), LiveRead("gcp")
    clients = _Clients(connect, read)
    for project, region in sorted(set(places) | ({(stack.gcp.project, stack.gcp.region)} if stack.gcp else set())):
        where = f"projects/{project}/locations/{region}"
        try:
            functions = {f.name.rsplit("/", 1)[-1]: f for f in clients.call("functions", "list_functions",
                                                                            parent=where)}
            for job in clients.call("scheduler", "list_jobs", parent=where):
                out.found.append(_discovered(job, functions, f"{project}/{region}"))
        except gexc.GoogleAPIError as exc:
            out.errors.append(f"gcp {where}: {_why(exc)}")
    out.calls = read.calls
    return out


def _discovered(job: Any, functions: Mapping[str, Any], place: str) -> Discovered:
    short = job.name.rsplit("/", 1)[-1]
    stamp = next((w.split("=", 1)[1] for w in job.description.split() if w.startswith("lockstep-workflow=")), "")
    base = Discovered("gcp", place, short, job.name, job.schedule, job.time_zone or "UTC", managed=stamp)
    uri = job.http_target.uri if "http_target" in job else ""
    if not uri:
        kind = "a Pub/Sub topic" if "pubsub_target" in job else "an App Engine route"
        return dataclasses.replace(base, calls=kind, not_a_workflow=f"it publishes to {kind}, not a function")
    if scheduler_v1.Job.State(job.state).name == "PAUSED":
        return dataclasses.replace(base, calls=uri, not_a_workflow="the job is paused")
    fn = next((f for n, f in functions.items() if uri.rstrip("/") in (f.service_config.uri.rstrip("/"), f.url)
               or uri.rstrip("/").rsplit("/", 1)[-1] == n), None)
    if fn is None:
        return dataclasses.replace(base, calls=uri, not_a_workflow=f"its URL {uri} is no function of the project")
    env, s = dict(fn.service_config.environment_variables), fn.service_config
    return dataclasses.replace(
        base, calls=fn.name.rsplit("/", 1)[-1], function_id=fn.name,
        managed=stamp or dict(fn.labels).get("lockstep-workflow", ""),
        code=code_of(env, fn.build_config.source.storage_source.object_, "gcp"), runtime=fn.build_config.runtime,
        entry=env.get("LOCKSTEP_ENTRY", "") or _entry(fn.build_config.entry_point),
        timeout_s=s.timeout_seconds or None, memory_mb=_megabytes(s.available_memory),
        env={k: v for k, v in env.items() if not k.startswith("LOCKSTEP_")})


def _entry(entry_point: str) -> str:
    """Return module.function for a function's entry point (Functions loads `main.py`); Lockstep's shim: none."""
    return "" if not entry_point or entry_point == "lockstep" else f"main.{entry_point}"


def _megabytes(memory: str) -> int | None:
    units = {"M": 1, "Mi": 1, "G": 1000, "Gi": 1024}
    unit = next((u for u in ("Mi", "Gi", "M", "G") if memory.endswith(u)), None)
    return int(float(memory.removesuffix(unit)) * units[unit]) if unit and memory.removesuffix(unit) else None
