"""GCP: a private HTTP Cloud Functions (2nd gen) function called by a Cloud Scheduler job with an OIDC token.

Children of `lockstep:gcp:Workflow` (logical names `{workflow}-{role}`): source (bucket), package (object named by
content digest), runtime-sa, invoker-sa, secret-N-access, function, invoker (run.invoker on this one service for the
invoker account only: the function is not public), job, notify-N (channels), failures-alert.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra import fidelity, naming
from infra.bundle import SHIM_HANDLER, bundle
from infra.model import StackConfig
from infra.model import Workflow as Wf
from infra.schedule.translate import Native
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import as_env, describe, stamps
from infra.targets.base import Context

TYPE = "lockstep:gcp:Workflow"
DEADLINE_MARGIN_S = 30


def attempt_deadline(timeout_s: int) -> int:
    """Return Cloud Scheduler's attempt deadline: at least the function timeout, within 15 s - 30 min."""
    return max(fidelity.GCP_MIN_ATTEMPT_DEADLINE_S, min(timeout_s + DEADLINE_MARGIN_S,
                                                         fidelity.GCP_MAX_ATTEMPT_DEADLINE_S), timeout_s)


def retry_config(wf: Wf) -> dict[str, Any]:
    """Return Cloud Scheduler's retry_config for the canonical retry."""
    r = wf.retry
    doublings = 0 if r.backoff == "fixed" else max(0, math.ceil(math.log2(r.max_delay_s / r.delay_s)))
    return {"retry_count": r.attempts - 1, "min_backoff_duration": f"{r.delay_s}s",
            "max_backoff_duration": f"{r.delay_s if r.backoff == 'fixed' else r.max_delay_s}s",
            "max_doublings": doublings, "max_retry_duration": f"{r.max_event_age_s}s"}


def cpu_for(memory_mb: int) -> str | None:
    """Return the CPU a memory size needs on Cloud Run (1 vCPU serves at most 4 GiB), or None for the default."""
    return None if memory_mb <= 4096 else ("2" if memory_mb <= 8192 else "4")


def translate(wf: Wf, stack: StackConfig) -> dict[str, Any]:
    """Return the native GCP value of every canonical field (what the component deploys)."""
    native = translate_schedule(wf.schedule, "gcp")
    retry = retry_config(wf)
    memory = wf.local("gcp", "memory_mb")
    assert isinstance(memory, int)
    return {
        "schedule": native, "timezone": native,
        "retry.attempts": {"retry_count": retry["retry_count"]},
        "retry.backoff": {k: retry[k] for k in ("min_backoff_duration", "max_backoff_duration", "max_doublings")},
        "retry.max_event_age": {"max_retry_duration": retry["max_retry_duration"]},
        "timeout": {"timeout_seconds": wf.timeout_s, "attempt_deadline": f"{attempt_deadline(wf.timeout_s)}s"},
        "allow_overlap": {"max_instance_count": 100 if wf.allow_overlap else 1, "max_instance_request_concurrency": 1},
        "notify": [f"channel:{n.kind}:{n.address if n.kind == 'email' else n.describe()}" for n in wf.notify],
        "memory": {"available_memory": f"{memory}Mi", "available_cpu": cpu_for(memory)},
        "secrets": {k: f"secret_environment_variables:{v.name}:latest" for k, v in sorted(wf.function.secrets.items())},
        "env": dict(sorted(wf.function.env.items())),
        "runtime": wf.function.runtime.replace(".", ""),
    }


class Workflow(pulumi.ComponentResource):
    """One workflow on GCP."""

    function: gcp.cloudfunctionsv2.Function
    job: gcp.cloudscheduler.Job

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        assert ctx.stack.gcp is not None
        self._wf, self._ctx = wf, ctx
        self._project, self._region = ctx.stack.gcp.project, str(wf.local("gcp", "region") or ctx.stack.gcp.region)
        self._labels = stamps(wf, "gcp", ctx.commit)
        self._native = translate(wf, ctx.stack)
        self._base = naming.physical("lockstep", ctx.stack.name, wf.name, limit=63)
        self._identities()
        self._function()
        self._job()
        self._alerts()
        self.register_outputs({"functionUri": self.function.url, "jobName": self.job.name,
                               "region": self._region, "stamps": self._labels})

    def _child(self, **kw: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kw)

    def _account(self, role: str, prefix: str) -> gcp.serviceaccount.Account:
        wf = self._wf
        return gcp.serviceaccount.Account(
            naming.logical(wf.name, role), project=self._project,
            account_id=naming.physical(prefix, self._ctx.stack.name, wf.name, limit=30),
            display_name=f"lockstep {wf.name} {role}"[:100], description=describe(self._labels), opts=self._child())

    def _identities(self) -> None:
        self.runtime_sa = self._account("runtime-sa", "lsr")
        self.invoker_sa = self._account("invoker-sa", "lsi")
        member = self.runtime_sa.email.apply(lambda e: f"serviceAccount:{e}")
        self.secret_access = [
            gcp.secretmanager.SecretIamMember(
                naming.logical(self._wf.name, f"secret-{i}-access"), project=self._project, secret_id=ref.name,
                role="roles/secretmanager.secretAccessor", member=member, opts=self._child())
            for i, (_k, ref) in enumerate(sorted(self._wf.function.secrets.items()))]

    def _function(self) -> None:
        wf, n, labels = self._wf, naming.logical, self._labels
        self.bucket = gcp.storage.Bucket(
            n(wf.name, "source"), name=naming.physical(self._project, "lockstep", self._ctx.stack.name, wf.name,
                                                       limit=63),
            project=self._project, location=self._region.upper(), uniform_bucket_level_access=True,
            public_access_prevention="enforced", labels=labels, opts=self._child())
        package = bundle(wf, self._ctx.root, "gcp")
        self.object = gcp.storage.BucketObject(
            n(wf.name, "package"), bucket=self.bucket.name, name=package.object_name,
            source=pulumi.FileAsset(str(package.path)), content_type="application/zip", metadata=as_env(labels),
            opts=self._child())
        memory: dict[str, Any] = self._native["memory"]
        overlap: dict[str, int] = self._native["allow_overlap"]
        fs = gcp.cloudfunctionsv2
        self.function = fs.Function(
            n(wf.name, "function"), name=self._base, project=self._project, location=self._region,
            description=describe(labels), labels=labels,
            build_config=fs.FunctionBuildConfigArgs(
                runtime=str(self._native["runtime"]), entry_point=SHIM_HANDLER["gcp"],
                source=fs.FunctionBuildConfigSourceArgs(storage_source=fs.FunctionBuildConfigSourceStorageSourceArgs(
                    bucket=self.bucket.name, object=self.object.name))),
            service_config=fs.FunctionServiceConfigArgs(
                available_memory=memory["available_memory"], available_cpu=memory["available_cpu"],
                timeout_seconds=wf.timeout_s, max_instance_count=overlap["max_instance_count"],
                max_instance_request_concurrency=overlap["max_instance_request_concurrency"],
                ingress_settings="ALLOW_ALL", all_traffic_on_latest_revision=True,
                service_account_email=self.runtime_sa.email,
                environment_variables={**self._native["env"], **as_env(labels)},
                secret_environment_variables=[fs.FunctionServiceConfigSecretEnvironmentVariableArgs(
                    key=key, project_id=self._project, secret=ref.name, version="latest")
                    for key, ref in sorted(wf.function.secrets.items())]),
            opts=self._child(depends_on=list(self.secret_access)))
        # Authentication stays on (ALLOW_ALL ingress lets Cloud Scheduler reach it); only the invoker may call.
        self.invoker = gcp.cloudrunv2.ServiceIamMember(
            n(wf.name, "invoker"), project=self._project, location=self._region, name=self.function.name,
            role="roles/run.invoker", member=self.invoker_sa.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=self._child())

    def _job(self) -> None:
        wf = self._wf
        native = self._native["schedule"]
        assert isinstance(native, Native), "refusals are raised before components are built"
        body = base64.b64encode(json.dumps({"source": "gcp.scheduler", "lockstep": self._labels},
                                           sort_keys=True).encode()).decode()
        cs = gcp.cloudscheduler
        self.job = cs.Job(
            naming.logical(wf.name, "job"), name=self._base, project=self._project, region=self._region,
            description=describe(self._labels), schedule=native.expression, time_zone=native.timezone,
            attempt_deadline=f"{attempt_deadline(wf.timeout_s)}s", retry_config=cs.JobRetryConfigArgs(
                **retry_config(wf)),
            http_target=cs.JobHttpTargetArgs(
                uri=self.function.url, http_method="POST", body=body,
                headers={"Content-Type": "application/json"},
                oidc_token=cs.JobHttpTargetOidcTokenArgs(service_account_email=self.invoker_sa.email,
                                                         audience=self.function.url)),
            opts=self._child(depends_on=[self.invoker]))

    def _alerts(self) -> None:
        wf, n, labels = self._wf, naming.logical, self._labels
        mon = gcp.monitoring
        channels = [mon.NotificationChannel(
            n(wf.name, f"notify-{i}"), project=self._project, type="email", display_name=f"{wf.name}: {x.address}",
            labels={"email_address": x.address}, user_labels=labels, opts=self._child())
            for i, x in enumerate(y for y in wf.notify if y.kind == "email")]
        failures = (f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{self._base}" AND '
                    'metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class != "2xx"')
        self.alert = mon.AlertPolicy(
            n(wf.name, "failures-alert"), project=self._project, display_name=f"lockstep {wf.name}: run failed",
            combiner="OR", severity="ERROR", user_labels=labels, notification_channels=[c.id for c in channels],
            documentation=mon.AlertPolicyDocumentationArgs(content=f"{wf.name} failed. {describe(labels)}",
                                                           mime_type="text/markdown"),
            conditions=[mon.AlertPolicyConditionArgs(
                display_name="the function answered with an error",
                condition_threshold=mon.AlertPolicyConditionConditionThresholdArgs(
                    filter=failures, comparison="COMPARISON_GT", threshold_value=0, duration="0s",
                    aggregations=[mon.AlertPolicyConditionConditionThresholdAggregationArgs(
                        alignment_period="60s", per_series_aligner="ALIGN_COUNT")]))],
            opts=self._child())
