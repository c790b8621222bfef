"""Fill the emulators through the vendor SDKs with what the program registers for a workflow (a deploy stand-in).

The program runs under Pulumi's mocks exactly as the gate runs it; each registered resource the drift readers read
is then created through boto3, the Google Cloud clients or the Azure management clients with the registered input
properties (ARNs and IDs the mocks cannot know are taken from the emulator's answers). A resource that exists
already under the registered name (an adopted one: its import record keeps the live name) is updated to the
registered inputs instead, as `pulumi up` imports it and then updates it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infra import imports
from infra.bundle import bundle
from infra.model import StackConfig, Workflow
from infra.preflight.capture import Registration
from infra.preflight.evaluate import run_capture
from infra.program import Providers, build_one
from infra.targets.registry import TARGETS

COMMIT = "0" * 40


_CACHE: dict[tuple[str, str, str, str], dict[str, list[dict[str, Any]]]] = {}


def registered(root: Path, stack: StackConfig, wf: Workflow, target: str) -> dict[str, list[dict[str, Any]]]:
    """Return the custom resources the program registers for one workflow on one target: type -> [inputs].

    Cached per (workflow, spec digest, import record, stack, target): the same declaration registers the same inputs.
    """
    key = (wf.name, wf.digest + imports.digest(root, wf.location.path), stack.name, target)
    if key not in _CACHE:
        _CACHE[key] = _registered(root, stack, wf, target)
    return _CACHE[key]


def _registered(root: Path, stack: StackConfig, wf: Workflow, target: str) -> dict[str, list[dict[str, Any]]]:
    only = dataclasses.replace(stack, **{t: None for t in TARGETS if t != target})  # type: ignore[arg-type]

    def program() -> None:
        build_one(wf, only, root, COMMIT, providers=Providers(only))

    out: dict[str, list[dict[str, Any]]] = {}
    for reg in run_capture(program, stack.name).registrations:
        if reg.custom:
            out.setdefault(reg.type, []).append(_plain(reg.inputs))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _one(regs: Mapping[str, list[dict[str, Any]]], type_: str) -> dict[str, Any]:
    found = regs.get(type_, [])
    assert len(found) == 1, (type_, len(found))
    return found[0]


def seed_aws(aws: Callable[[str], Any], root: Path, wf: Workflow, regs: Mapping[str, list[dict[str, Any]]]) -> None:
    """Create the workflow's role, function, invoke config, topic, subscriptions, schedule group and schedule."""
    lam, sch, sns, iam = aws("lambda"), aws("scheduler"), aws("sns"), aws("iam")
    roles = {r["name"]: iam.create_role(RoleName=r["name"], AssumeRolePolicyDocument=r["assumeRolePolicy"])["Role"]
             ["Arn"] for r in regs["aws:iam/role:Role"]}
    f = _one(regs, "aws:lambda/function:Function")
    created = _function(lam, f, next(a for n, a in roles.items() if n.endswith("-exec")),
                        bundle(wf, root, "aws").path.read_bytes())
    if f.get("reservedConcurrentExecutions") is not None:
        lam.put_function_concurrency(FunctionName=f["name"],
                                     ReservedConcurrentExecutions=f["reservedConcurrentExecutions"])
    inv = _one(regs, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):  # moto appends on a second put
        lam.delete_function_event_invoke_config(FunctionName=f["name"])
    lam.put_function_event_invoke_config(FunctionName=f["name"], MaximumRetryAttempts=inv["maximumRetryAttempts"],
                                         MaximumEventAgeInSeconds=inv["maximumEventAgeInSeconds"])
    t = _one(regs, "aws:sns/topic:Topic")
    topic = sns.create_topic(Name=t["name"], Tags=[{"Key": k, "Value": v} for k, v in t["tags"].items()])["TopicArn"]
    for s in regs.get("aws:sns/topicSubscription:TopicSubscription", []):
        sns.subscribe(TopicArn=topic, Protocol=s["protocol"], Endpoint=s["endpoint"])
    for g in regs.get("aws:scheduler/scheduleGroup:ScheduleGroup", []):  # none: an adopted schedule's shared group
        tags = [{"Key": k, "Value": v} for k, v in g["tags"].items()]
        try:
            sch.create_schedule_group(Name=g["name"], Tags=tags)
        except sch.exceptions.ConflictException:
            sch.tag_resource(ResourceArn=sch.get_schedule_group(Name=g["name"])["Arn"], Tags=tags)
    s = _one(regs, "aws:scheduler/schedule:Schedule")
    args = schedule_args(s, created["FunctionArn"], next(a for n, a in roles.items() if n.endswith("-scheduler")))
    try:
        sch.create_schedule(**args)
    except sch.exceptions.ConflictException:
        sch.update_schedule(**args)


def _function(lam: Any, f: Mapping[str, Any], role: str, package: bytes) -> dict[str, Any]:
    """Create the function, or update an existing one to the registered inputs; return its configuration."""
    config = dict(Runtime=f["runtime"], Role=role, Handler=f["handler"], Timeout=f["timeout"],
                  MemorySize=f["memorySize"], Environment={"Variables": f["environment"]["variables"]},
                  Description=f["description"])
    try:
        return dict(lam.create_function(FunctionName=f["name"], Code={"ZipFile": package}, Tags=f["tags"], **config))
    except lam.exceptions.ResourceConflictException:
        lam.update_function_code(FunctionName=f["name"], ZipFile=package)
        done = dict(lam.update_function_configuration(FunctionName=f["name"], **config))
        lam.tag_resource(Resource=done["FunctionArn"], Tags=f["tags"])
        return done


def schedule_args(s: Mapping[str, Any], function_arn: str, role_arn: str) -> dict[str, Any]:
    """Return create_schedule/update_schedule arguments from registered Schedule inputs (always with State)."""
    retry = s["target"]["retryPolicy"]
    args: dict[str, Any] = {
        "Name": s["name"], "GroupName": s["groupName"], "ScheduleExpression": s["scheduleExpression"],
        "FlexibleTimeWindow": {"Mode": s["flexibleTimeWindow"]["mode"]}, "State": s.get("state", "ENABLED"),
        "Description": s["description"],
        "Target": {"Arn": function_arn, "RoleArn": role_arn, "Input": s["target"].get("input", "{}"),
                   "RetryPolicy": {"MaximumRetryAttempts": retry["maximumRetryAttempts"],
                                   "MaximumEventAgeInSeconds": retry["maximumEventAgeInSeconds"]}}}
    if s.get("scheduleExpressionTimezone"):
        args["ScheduleExpressionTimezone"] = s["scheduleExpressionTimezone"]
    return args


def seed_gcp(gcp: Mapping[str, Any], regs: Mapping[str, list[dict[str, Any]]]) -> None:
    """Create the workflow's scheduler job, function and e-mail notification channels."""
    from google.api_core import exceptions as gexc
    from google.cloud import functions_v2, monitoring_v3, scheduler_v1

    j, f = _one(regs, "gcp:cloudscheduler/job:Job"), _one(regs, "gcp:cloudfunctionsv2/function:Function")
    where = f"projects/{f['project']}/locations/{j['region']}"
    r = j["retryConfig"]
    job = scheduler_v1.Job(
        name=f"{where}/jobs/{j['name']}", description=j["description"], schedule=j["schedule"],
        time_zone=j.get("timeZone") or "", attempt_deadline=_seconds(j["attemptDeadline"]),
        retry_config=scheduler_v1.RetryConfig(
            retry_count=r["retryCount"], min_backoff_duration=_seconds(r["minBackoffDuration"]),
            max_backoff_duration=_seconds(r["maxBackoffDuration"]), max_doublings=r["maxDoublings"],
            max_retry_duration=_seconds(r["maxRetryDuration"])),
        http_target=scheduler_v1.HttpTarget(uri=f"https://{j['region']}-{f['project']}.run.app/", http_method="POST"))
    jobs = scheduler_v1.CloudSchedulerClient(**gcp)
    try:
        jobs.create_job(parent=where, job=job)
    except gexc.Conflict:  # adopted: `pulumi up` imports it, then updates it to the registered inputs
        jobs.update_job(job=job, update_mask={"paths": JOB_FIELDS})
    s, b = f["serviceConfig"], f["buildConfig"]
    function = dict(
        name=f"{where}/functions/{f['name']}", labels=f["labels"], description=f["description"],
        build_config={"runtime": b["runtime"], "entry_point": b["entryPoint"]},
        service_config={
            "environment_variables": s["environmentVariables"], "timeout_seconds": s["timeoutSeconds"],
            "max_instance_count": s["maxInstanceCount"],
            "max_instance_request_concurrency": s.get("maxInstanceRequestConcurrency", 1),
            "available_memory": s["availableMemory"], "available_cpu": s.get("availableCpu") or "",
            "secret_environment_variables": [{"key": x["key"], "secret": x["secret"], "version": x["version"],
                                              "project_id": f["project"]}
                                             for x in s.get("secretEnvironmentVariables", [])]})
    fns = functions_v2.FunctionServiceClient(**gcp)
    try:
        fns.create_function(parent=where, function_id=f["name"], function=function).result()
    except gexc.Conflict:
        fns.update_function(function=function, update_mask={"paths": FUNCTION_FIELDS}).result()
    channels = monitoring_v3.NotificationChannelServiceClient(**{k: v for k, v in gcp.items() if k != "transport"})
    for c in regs.get("gcp:monitoring/notificationChannel:NotificationChannel", []):
        channels.create_notification_channel(name=f"projects/{f['project']}", notification_channel={
            "type_": c["type"], "display_name": c["displayName"], "labels": c["labels"],
            "user_labels": c["userLabels"]})


JOB_FIELDS = ["description", "schedule", "time_zone", "attempt_deadline", "retry_config", "http_target"]
FUNCTION_FIELDS = ["labels", "description", "build_config", "service_config"]


def _seconds(text: str) -> dict[str, int]:
    return {"seconds": int(str(text).removesuffix("s"))}


def seed_azure(azure: Mapping[str, Any], regs: Mapping[str, list[dict[str, Any]]]) -> None:
    """Create the workflow's App Service plan, function app (with its app settings) and action group."""
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.web import WebSiteManagementClient
    from azure.mgmt.web import models as wm

    web, res = WebSiteManagementClient(**azure), ResourceManagementClient(**azure)
    p, a = _one(regs, "azure-native:web:AppServicePlan"), _one(regs, "azure-native:web:WebApp")
    g = _one(regs, "azure-native:monitor:ActionGroup")
    rg = a["resourceGroupName"]
    web.app_service_plans.begin_create_or_update(rg, p["name"], wm.AppServicePlan(
        location=p["location"], kind=p["kind"], reserved=True, tags=p["tags"],
        sku=wm.SkuDescription(name=p["sku"]["name"], tier=p["sku"]["tier"]))).result()
    web.web_apps.begin_create_or_update(rg, a["name"], wm.Site(
        location=a["location"], kind=a["kind"], tags=a["tags"], site_config=wm.SiteConfig(
            linux_fx_version=a["siteConfig"]["linuxFxVersion"],
            app_settings=[wm.NameValuePair(name=s["name"], value=s["value"]) for s in a["siteConfig"]["appSettings"]]))
    ).result()
    group_id = (f"/subscriptions/{azure['subscription_id']}/resourceGroups/{rg}/providers/microsoft.insights/"
                f"actionGroups/{g['actionGroupName']}")
    res.resources.begin_create_or_update_by_id(group_id, api_version="2023-01-01", parameters={
        "location": "global", "tags": g["tags"],
        "properties": {"groupShortName": g["groupShortName"], "enabled": True,
                       "emailReceivers": g.get("emailReceivers", [])}}).result()


def dump(regs: Mapping[str, list[dict[str, Any]]]) -> str:
    """Return registrations as JSON (for assertion messages)."""
    return json.dumps(regs, indent=1, sort_keys=True, default=str)


__all__ = ["Registration", "registered", "schedule_args", "seed_aws", "seed_azure", "seed_gcp"]
