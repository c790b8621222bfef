"""Read what GCP runs for each workflow through the Google Cloud client libraries, mapped onto Pulumi's properties.

The list APIs return whole resources, so from `LIST_FROM` workflows in a place on, a read is one paginated
Cloud Scheduler `list_jobs` and Functions v2 `list_functions` per project and region, and one Monitoring
`list_notification_channels` per project; the job list also finds stamped jobs no workflow claims. Below that,
one call per resource: `get_job`, `get_function`, and `list_notification_channels` filtered on the workflow's
stamp, plus the `list_jobs` for unclaimed jobs. Application Default Credentials apply; `connect` carries client keyword
arguments (credentials, transport, client_options) for an emulator.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
from infra.targets.gcp.translate import names as physical_names  # noqa: E402
from infra.targets.liveread import (  # noqa: E402
    Counter,
    LiveRead,
    NotDeployed,
    Unmanaged,
    Wanted,
    read_each,
    unreadable_all,
    use_lists,
)

# Throttling (429) and transient server errors are retried with exponential backoff, bounded in time.
PAGE_SIZE = 500  # the largest page Cloud Scheduler's ListJobs serves
RETRY = gretry.Retry(initial=0.2, maximum=5.0, multiplier=2.0, timeout=30.0,
                     predicate=gretry.if_exception_type(gexc.TooManyRequests, gexc.ServiceUnavailable,
                                                        gexc.InternalServerError))


class _Clients:
    """One client per API, created on first use, counting the calls made through it."""

    def __init__(self, connect: Mapping[str, Any], out: LiveRead) -> None:
        self._kw, self._count = {k: v for k, v in connect.items() if k != "reads"}, Counter(out)
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def call(self, api: str, method: str, **kw: Any) -> Any:
        """Call one API method with the bounded retry."""
        with self._lock:  # readers run in threads; the clients are thread-safe once made
            if api not in self._made:
                self._made[api] = _client(api, self._kw)
        self._count.add()
        return getattr(self._made[api], method)(retry=RETRY, timeout=20.0, **kw)

    def every(self, api: str, method: str, **kw: Any) -> Iterator[Any]:
        """Yield every item of a paginated list, counting each page as a call."""
        for number, page in enumerate(self.call(api, method, **kw).pages):
            if number:
                self._count.add()
            yield from _items(page)


def _items(page: Any) -> list[Any]:
    for name in ("jobs", "functions", "notification_channels"):
        if name in type(page).meta.fields:
            return list(getattr(page, name))
    raise TypeError(f"{type(page).__name__} is no list response this reader knows")


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
    listed = _list_places(out, clients, wanted, connect)
    readable = {n: w for n, w in wanted.items() if n not in out.unreadable}
    read_each(out, readable, lambda w: _workflow(clients, stack, w, listed.get(_place(w))), _why)
    places = {_place(w) for w in wanted.values()}
    if stack.gcp:
        places.add((stack.gcp.project, stack.gcp.region))
    claimed = {_names(stack, w)[0] for w in wanted.values()}
    for project, region in sorted(places):
        try:
            jobs = listed[(project, region)].jobs.values() if (project, region) in listed else \
                clients.every("scheduler", "list_jobs", parent=f"projects/{project}/locations/{region}")
            out.unmanaged.extend(_unmanaged(jobs, stack, claimed))
        except gexc.GoogleAPIError as exc:
            out.error = f"listing scheduler jobs in {project}/{region}: {_why(exc)}"
    return out


@dataclass
class _Listed:
    """One project and region as the lists show it: jobs and functions by short name, channels by workflow."""

    jobs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, list[Any]] = field(default_factory=dict)


def _place(want: Wanted) -> tuple[str, str]:
    return want.desired.project, want.desired.region


def _list_places(out: LiveRead, clients: _Clients, wanted: Mapping[str, Wanted],
                 connect: Mapping[str, Any]) -> dict[tuple[str, str], _Listed]:
    """List jobs, functions and channels where enough workflows live; a failed list makes their reads unreadable."""
    by_place: dict[tuple[str, str], list[str]] = {}
    for name, want in wanted.items():
        by_place.setdefault(_place(want), []).append(name)
    listed: dict[tuple[str, str], _Listed] = {}
    channels: dict[str, dict[str, list[Any]]] = {}
    for (project, region), names in sorted(by_place.items()):
        if not use_lists(connect, len(names)):
            continue
        try:
            if project not in channels:
                channels[project] = _channels(clients, project)
            listed[(project, region)] = _listed(clients, project, region, channels[project])
        except gexc.GoogleAPIError as exc:
            unreadable_all(out, names, f"listing Cloud Scheduler jobs, functions and notification channels in "
                                       f"{project}/{region}: {_why(exc)}")
    return listed


def _listed(clients: _Clients, project: str, region: str, channels: dict[str, list[Any]]) -> _Listed:
    where = f"projects/{project}/locations/{region}"
    jobs = clients.every("scheduler", "list_jobs", request={"parent": where, "page_size": PAGE_SIZE})
    functions = clients.every("functions", "list_functions", request={"parent": where, "page_size": PAGE_SIZE})
    return _Listed({j.name.rsplit("/", 1)[-1]: j for j in jobs}, {f.name.rsplit("/", 1)[-1]: f for f in functions},
                   channels)


def _channels(clients: _Clients, project: str) -> dict[str, list[Any]]:
    """Return the project's notification channels by the workflow they are stamped with."""
    found: dict[str, list[Any]] = {}
    for c in clients.every("monitoring", "list_notification_channels",
                           request={"name": f"projects/{project}", "page_size": PAGE_SIZE}):
        stamp = c.user_labels.get("lockstep-workflow")
        if stamp:
            found.setdefault(stamp, []).append(c)
    return found


def _names(stack: StackConfig, want: Wanted) -> tuple[str, str]:
    """Return the short names of a workflow's job and function (the live ones where its import record keeps them)."""
    n = physical_names(stack.name, want.workflow, want.live)
    return n.job, n.function


def _workflow(clients: _Clients, stack: StackConfig, want: Wanted, listed: _Listed | None) -> list[Observed]:
    d: GcpDesired = want.desired
    job_name, fn_name = _names(stack, want)
    if listed is not None:
        job, fn = listed.jobs.get(job_name), listed.functions.get(fn_name)
        if job is None or fn is None:
            raise NotDeployed(f"scheduler job {job_name} does not exist" if job is None else
                              f"function {fn_name} does not exist")
        channels = listed.channels.get(want.workflow, [])
    else:
        job, fn, channels = _point_reads(clients, d, want.workflow, job_name, fn_name)
    return [Observed(JOB, job_name, _job_props(job, d.region)), Observed(FUNCTION, fn_name, _function_props(fn, d)),
            *(Observed(CHANNEL, c.name, {"type": c.type_, "labels": dict(c.labels)}) for c in channels
              if c.user_labels.get("lockstep-workflow") == want.workflow)]  # also where the filter is ignored


def _point_reads(clients: _Clients, d: GcpDesired, workflow: str, job_name: str,
                 fn_name: str) -> tuple[Any, Any, list[Any]]:
    where = f"projects/{d.project}/locations/{d.region}"
    job = _get(lambda: clients.call("scheduler", "get_job", name=f"{where}/jobs/{job_name}"),
               f"scheduler job {job_name}")
    fn = _get(lambda: clients.call("functions", "get_function", name=f"{where}/functions/{fn_name}"),
              f"function {fn_name}")
    channels = list(clients.every("monitoring", "list_notification_channels", request={
        "name": f"projects/{d.project}", "filter": f'user_labels."lockstep-workflow" = "{workflow}"'}))
    return job, fn, channels


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


def _unmanaged(jobs: Any, stack: StackConfig, claimed: set[str]) -> list[Unmanaged]:
    prefix = naming.physical("lockstep", stack.name, limit=63) + "-"
    found = []
    for job in jobs:
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
