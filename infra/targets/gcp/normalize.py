"""Registered inputs (or a live reader's resources) of one workflow on GCP -> the GcpDesired they realise."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from infra.stamps import CODE_ENV, ENTRY_ENV
from infra.targets.base import NormalizeError, Observed
from infra.targets.gcp import facts
from infra.targets.gcp.translate import GcpDesired
from infra.targets.observed import every, get, integer, one, split_env, stamps, strings, text

JOB = "gcp:cloudscheduler/job:Job"
FUNCTION = "gcp:cloudfunctionsv2/function:Function"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
# Which live resource each GcpDesired attribute is read from, so drift can name the resource that differs.
_ON_JOB = ("schedule", "time_zone", "retry_count", "min_backoff", "max_backoff", "max_doublings",
           "max_retry_duration", "attempt_deadline")
SOURCES: Mapping[str, str] = MappingProxyType({
    f.name: JOB if f.name in _ON_JOB else CHANNEL if f.name == "email_channels" else FUNCTION
    for f in dataclasses.fields(GcpDesired) if f.name not in ("project", "region")})


def normalize(observed: Sequence[Observed]) -> GcpDesired:
    """Return the desired state the observed GCP resources of one workflow realise."""
    job, function = one(observed, JOB), one(observed, FUNCTION)
    assert job and function
    j, f = job.props, function.props
    service = get(f, "serviceConfig", default={})
    user, own = split_env(strings(get(service, "environmentVariables")))
    secrets = {str(get(s, "key")): f"{get(s, 'secret')}:{get(s, 'version')}"
               for s in get(service, "secretEnvironmentVariables", default=[])}
    project, region = text(get(f, "project")), text(get(j, "region"))
    if not project or not region:
        raise NormalizeError("the scheduler job or function names no project or region")
    retry = get(j, "retryConfig", default={})
    return GcpDesired(
        project=project, region=region, schedule=str(get(j, "schedule", default="")),
        time_zone=text(get(j, "timeZone")),
        retry_count=_int(get(retry, "retryCount"), facts.DEFAULT_RETRIES),
        min_backoff=str(get(retry, "minBackoffDuration", default=facts.DEFAULT_MIN_BACKOFF)),
        max_backoff=str(get(retry, "maxBackoffDuration", default=facts.DEFAULT_MAX_BACKOFF)),
        max_doublings=_int(get(retry, "maxDoublings"), facts.DEFAULT_MAX_DOUBLINGS),
        max_retry_duration=str(get(retry, "maxRetryDuration", default=facts.DEFAULT_MAX_RETRY_DURATION)),
        timeout_s=_int(get(service, "timeoutSeconds"), facts.DEFAULT_TIMEOUT_S),
        attempt_deadline=str(get(j, "attemptDeadline", default=facts.DEFAULT_ATTEMPT_DEADLINE)),
        max_instance_count=_int(get(service, "maxInstanceCount"), facts.DEFAULT_MAX_INSTANCES),
        max_instance_request_concurrency=_int(get(service, "maxInstanceRequestConcurrency"), 1),
        email_channels=tuple(sorted(str(get(c.props, "labels", "email_address")) for c in every(observed, CHANNEL)
                                    if get(c.props, "type") == "email")),
        memory=str(get(service, "availableMemory", default=facts.DEFAULT_MEMORY)),
        cpu=text(get(service, "availableCpu")), secrets=dict(sorted(secrets.items())), env=user,
        runtime=str(get(f, "buildConfig", "runtime", default="")), entry=own.get(ENTRY_ENV, ""),
        code_digest=own.get(CODE_ENV, ""), stamps=stamps(get(f, "labels")))


def _int(value: object, default: int) -> int:
    found = integer(value)
    return default if found is None else found  # an absent setting is the service's default
