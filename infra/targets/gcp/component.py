"""GCP: a private HTTP Cloud Functions (2nd gen) function called by a Cloud Scheduler job with an OIDC token.

Children of `lockstep:gcp:Workflow` (logical names `{workflow}-{role}`): source (bucket), package (object named by
content digest), runtime-sa, invoker-sa, secret-N-access, function, invoker (run.invoker on this one service for the
invoker account only: the function is not public), job, notify-N (channels), failures-alert.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pulumi_gcp as gcp

from infra import naming
from infra.bundle import SHIM_HANDLER, bundle
from infra.model import Workflow as Wf
from infra.stamps import CODE_ENV, ENTRY_ENV, as_env, describe, with_commit
from infra.targets.base import Context
from infra.targets.gcp.translate import GcpDesired, names, translate

TYPE = "lockstep:gcp:Workflow"


class Workflow(pulumi.ComponentResource):
    """One workflow on GCP."""

    function: gcp.cloudfunctionsv2.Function
    job: gcp.cloudscheduler.Job

    @staticmethod
    def provider_key(d: GcpDesired) -> tuple[str, str]:
        """Return what identifies the provider this workflow needs (shared by every workflow with the same key)."""
        return "gcp", f"{d.project}-{d.region}"

    @staticmethod
    def new_provider(name: str, d: GcpDesired) -> pulumi.ProviderResource:
        """Return the explicit provider for the desired state's project and region."""
        return gcp.Provider(name, project=d.project, region=d.region)

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self._d = translate(wf, ctx.stack).desired  # everything deployed below comes from here
        self._wf, self._ctx = wf, ctx
        self._project, self._region = self._d.project, self._d.region
        self._labels = with_commit(self._d.stamps, ctx.commit)
        self._live = ctx.live("gcp")  # children that exist live keep their names and are imported
        self._names = names(ctx.stack.name, wf.name, self._live)
        self._identities()
        self._function()
        self._job()
        self._alerts()
        self.register_outputs({"functionUri": self.function.url, "jobName": self.job.name,
                               "region": self._region, "stamps": self._labels})

    def _child(self, role: str = "", **kw: Any) -> pulumi.ResourceOptions:
        live = self._live.get(role)
        return pulumi.ResourceOptions(parent=self, import_=live.id if live else None, **kw)

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
                naming.logical(self._wf.name, f"secret-{i}-access"), project=self._project, secret_id=ref,
                role="roles/secretmanager.secretAccessor", member=member, opts=self._child())
            for i, ref in enumerate(sorted({v.rpartition(":")[0] for v in self._d.secrets.values()}))]

    def _function(self) -> None:
        wf, d, n, labels = self._wf, self._d, naming.logical, self._labels
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
        fs = gcp.cloudfunctionsv2
        self.function = fs.Function(
            n(wf.name, "function"), name=self._names.function, project=self._project, location=self._region,
            description=describe(labels), labels=labels,
            build_config=fs.FunctionBuildConfigArgs(
                runtime=d.runtime, entry_point=SHIM_HANDLER["gcp"],
                source=fs.FunctionBuildConfigSourceArgs(storage_source=fs.FunctionBuildConfigSourceStorageSourceArgs(
                    bucket=self.bucket.name, object=self.object.name))),
            service_config=fs.FunctionServiceConfigArgs(
                available_memory=d.memory, available_cpu=d.cpu,
                timeout_seconds=d.timeout_s, max_instance_count=d.max_instance_count,
                max_instance_request_concurrency=d.max_instance_request_concurrency,
                ingress_settings="ALLOW_ALL", all_traffic_on_latest_revision=True,
                service_account_email=self.runtime_sa.email,
                environment_variables={**d.env, **as_env(labels), ENTRY_ENV: d.entry, CODE_ENV: d.code_digest},
                secret_environment_variables=[fs.FunctionServiceConfigSecretEnvironmentVariableArgs(
                    key=key, project_id=self._project, secret=ref.rpartition(":")[0], version=ref.rpartition(":")[2])
                    for key, ref in sorted(d.secrets.items())]),
            opts=self._child("function", depends_on=list(self.secret_access)))
        # Authentication stays on (ALLOW_ALL ingress lets Cloud Scheduler reach it); only the invoker may call.
        self.invoker = gcp.cloudrunv2.ServiceIamMember(
            n(wf.name, "invoker"), project=self._project, location=self._region, name=self.function.name,
            role="roles/run.invoker", member=self.invoker_sa.email.apply(lambda e: f"serviceAccount:{e}"),
            opts=self._child())

    def _job(self) -> None:
        wf, d = self._wf, self._d
        body = base64.b64encode(json.dumps({"source": "gcp.scheduler", "lockstep": self._labels},
                                           sort_keys=True).encode()).decode()
        cs = gcp.cloudscheduler
        self.job = cs.Job(
            naming.logical(wf.name, "job"), name=self._names.job, project=self._project, region=self._region,
            description=describe(self._labels), schedule=d.schedule, time_zone=d.time_zone,
            attempt_deadline=d.attempt_deadline, retry_config=cs.JobRetryConfigArgs(
                retry_count=d.retry_count, min_backoff_duration=d.min_backoff, max_backoff_duration=d.max_backoff,
                max_doublings=d.max_doublings, max_retry_duration=d.max_retry_duration),
            http_target=cs.JobHttpTargetArgs(
                uri=self.function.url, http_method="POST", body=body,
                headers={"Content-Type": "application/json"},
                oidc_token=cs.JobHttpTargetOidcTokenArgs(service_account_email=self.invoker_sa.email,
                                                         audience=self.function.url)),
            opts=self._child("job", depends_on=[self.invoker]))

    def _alerts(self) -> None:
        wf, n, labels = self._wf, naming.logical, self._labels
        mon = gcp.monitoring
        channels = [mon.NotificationChannel(
            n(wf.name, f"notify-{i}"), project=self._project, type="email", display_name=f"{wf.name}: {address}",
            labels={"email_address": address}, user_labels=labels, opts=self._child())
            for i, address in enumerate(self._d.email_channels)]
        service = self._names.function
        failures = (f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{service}" AND '
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
