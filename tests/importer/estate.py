"""A messy estate, planted through the vendor SDKs: schedules made by hand over the years, a few by Lockstep.

Planted groups (what the overlap report must find, exactly):
  exact: the nightly report at 09:00 Berlin on AWS, 08:00 London on GCP and 09:00 Berlin on Azure (one code);
         a quarter-hour drain as an AWS rate and a GCP cron; an hourly ETL in two AWS regions (one stamped)
  near:  the weekly digest on AWS Monday 06:00 and GCP Monday 07:00 (same code, other time); the cleanup on GCP
         and Azure at 02:30 (same entry point, other code); the morning sync at 09:30 Berlin on AWS and 08:30 UTC on
         GCP (same code, apart in summer)
plus unique schedules on every platform and things that are not workflows.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infra.digest import code_digest

REGION, OTHER_REGION = "eu-central-1", "us-east-1"
PROJECT, GCP_REGION = "acme-lockstep-staging", "europe-west1"
WHERE = f"projects/{PROJECT}/locations/{GCP_REGION}"
RG = "rg-legacy-jobs"

EXACT = [
    {"aws:eu-central-1:reports/nightly-report", "gcp:acme-lockstep-staging/europe-west1:nightly-report-copy",
     f"azure:westeurope:{RG}/nightlyrpt"},
    {"aws:eu-central-1:queues/drain", "gcp:acme-lockstep-staging/europe-west1:drain-every-15"},
    {"aws:eu-central-1:etl/hourly-etl", "aws:us-east-1:lockstep-staging-hourly-etl/lockstep-staging-hourly-etl"},
]
NEAR = [
    {"aws:eu-central-1:reports/weekly-digest", "gcp:acme-lockstep-staging/europe-west1:weekly-digest-v2"},
    {"gcp:acme-lockstep-staging/europe-west1:cleanup", f"azure:westeurope:{RG}/cleanupapp"},
    {"aws:eu-central-1:sync/morning-sync", "gcp:acme-lockstep-staging/europe-west1:morning-sync-utc"},
]
NOT_WORKFLOWS = {
    "aws:eu-central-1:default/to-a-queue": "is not a Lambda function",
    "aws:eu-central-1:default/paused-export": "disabled",
    "aws:eu-central-1:default/one-off-migration": "no canonical form",
    "gcp:acme-lockstep-staging/europe-west1:publish-ticks": "Pub/Sub",
    "gcp:acme-lockstep-staging/europe-west1:ping-website": "no function",
    f"azure:westeurope:{RG}/marketing-site": "not a function app",
    f"azure:westeurope:{RG}/queue-worker": "no app setting or function.json timer binding holds a timer schedule",
}
UNIQUE_AWS = 10
UNIQUE_GCP = 5
UNIQUE_AZURE = 3
INLINE_AZURE = 1  # a unique app whose timer schedule is written inline in function.json
SHARED_KEY, OWN_KEY = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-00000000a0a0"
ACCOUNT_KEY = "c2VjcmV0LWFjY291bnQta2V5LW5ldmVyLWluLWEtcmVjb3Jk"  # must never reach a record or any output


def source(name: str) -> str:
    """Return the main.py of the code base named `name`."""
    return f"def handler(event, context):\n    return {name!r}\n"


def write_source(directory: Path, name: str) -> Path:
    """Write the code base named `name` into a function directory (the code the user brings to adopt)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.py").write_text(source(name))
    return directory


def digest(name: str) -> str:
    """Return Lockstep's code digest of the code base named `name` (what LOCKSTEP_CODE_DIGEST carries)."""
    with tempfile.TemporaryDirectory() as tmp:
        return code_digest(write_source(Path(tmp), name))


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("main.py", text)
    return buf.getvalue()


class Aws:
    """Plant functions and schedules on moto."""

    def __init__(self, client: Callable[..., Any], region: str = REGION) -> None:
        import boto3

        self.lam = boto3.client("lambda", endpoint_url=client("lambda").meta.endpoint_url, region_name=region)
        self.sch = boto3.client("scheduler", endpoint_url=client("lambda").meta.endpoint_url, region_name=region)
        self.logs = boto3.client("logs", endpoint_url=client("lambda").meta.endpoint_url, region_name=region)
        iam = client("iam")
        try:
            self.role = iam.create_role(RoleName="legacy-exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            self.role = iam.get_role(RoleName="legacy-exec")["Role"]["Arn"]
        self.groups: set[str] = set()

    def function(self, name: str, code: str, handler: str = "main.handler", tags: Mapping[str, str] | None = None,
                 stamped: bool = True) -> str:
        env = {"REPORT_BUCKET": "acme-reports", **({"LOCKSTEP_CODE_DIGEST": digest(code)} if stamped else {})}
        return str(self.lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=self.role, Handler=handler,
            Code={"ZipFile": _zip(source(code))}, Timeout=120, MemorySize=256, Environment={"Variables": env},
            Tags=dict(tags or {}))["FunctionArn"])

    def schedule(self, group: str, name: str, expression: str, target: str, tz: str = "UTC",
                 state: str = "ENABLED") -> None:
        if group not in self.groups and group != "default":
            self.sch.create_schedule_group(Name=group)
        self.groups.add(group)
        self.sch.create_schedule(Name=name, GroupName=group, ScheduleExpression=expression,
                                 ScheduleExpressionTimezone=tz, FlexibleTimeWindow={"Mode": "OFF"}, State=state,
                                 Target={"Arn": target, "RoleArn": self.role})


def plant_aws(client: Callable[..., Any]) -> None:
    """Plant the AWS part of the estate in two regions."""
    a = Aws(client)
    a.schedule("reports", "nightly-report", "cron(0 9 * * ? *)", a.function("nightly-report", "report"),
               "Europe/Berlin")
    a.logs.create_log_group(logGroupName="/aws/lambda/nightly-report")  # it has run: its log group exists
    a.schedule("queues", "drain", "rate(15 minutes)", a.function("drain", "drain"))
    a.schedule("etl", "hourly-etl", "cron(5 * * * ? *)", a.function("hourly-etl", "etl"))
    a.schedule("reports", "weekly-digest", "cron(0 6 ? * MON *)", a.function("weekly-digest", "digest"))
    a.schedule("sync", "morning-sync", "cron(30 9 * * ? *)", a.function("morning-sync", "sync"), "Europe/Berlin")
    a.schedule("default", "to-a-queue", "cron(0 1 * * ? *)", "arn:aws:sqs:eu-central-1:123456789012:jobs")
    a.schedule("default", "paused-export", "cron(0 2 * * ? *)", a.function("paused-export", "export"),
               state="DISABLED")
    a.schedule("default", "one-off-migration", "at(2027-01-01T00:00:00)", a.function("migration", "migrate"))
    for n in range(UNIQUE_AWS):
        a.schedule("misc", f"job-{n}", f"cron({n * 5} 3 * * ? *)", a.function(f"misc-{n}", f"misc-{n}",
                                                                              stamped=n % 2 == 0))
    b = Aws(client, OTHER_REGION)
    name = "lockstep-staging-hourly-etl"
    b.schedule(name, name, "cron(5 * * * ? *)", b.function(name, "etl", tags={"lockstep-workflow": "hourly-etl"}))


def plant_gcp(gcp: Mapping[str, Any]) -> None:
    """Plant the GCP part: jobs calling functions over HTTP, a Pub/Sub job, a job calling a website."""
    from google.cloud import functions_v2, scheduler_v1

    jobs, fns = scheduler_v1.CloudSchedulerClient(**gcp), functions_v2.FunctionServiceClient(**gcp)

    def fn(name: str, code: str, entry: str = "handler") -> str:
        fns.create_function(parent=WHERE, function_id=name, function={
            "name": f"{WHERE}/functions/{name}", "build_config": {"runtime": "python311", "entry_point": entry},
            "service_config": {"environment_variables": {"LOCKSTEP_CODE_DIGEST": digest(code)},
                               "timeout_seconds": 120, "available_memory": "256M"}}).result()
        return f"https://{GCP_REGION}-{PROJECT}.cloudfunctions.net/{name}"

    def job(name: str, schedule: str, tz: str = "UTC", uri: str = "", pubsub: bool = False) -> None:
        target = ({"pubsub_target": {"topic_name": f"projects/{PROJECT}/topics/ticks"}} if pubsub else
                  {"http_target": {"uri": uri, "http_method": "POST"}})
        jobs.create_job(parent=WHERE, job={"name": f"{WHERE}/jobs/{name}", "schedule": schedule, "time_zone": tz,
                                           **target})

    job("nightly-report-copy", "0 8 * * *", "Europe/London", fn("report-fn", "report"))
    job("drain-every-15", "*/15 * * * *", uri=fn("drain-fn", "drain"))
    job("weekly-digest-v2", "0 7 * * 1", uri=fn("digest-fn", "digest"))
    job("cleanup", "30 2 * * *", uri=fn("cleanup-fn", "cleanup-v1", entry="cleanup"))
    job("morning-sync-utc", "30 8 * * *", uri=fn("sync-fn", "sync"))
    job("publish-ticks", "* * * * *", pubsub=True)
    job("ping-website", "*/5 * * * *", uri="https://www.example.com/health")
    for n in range(UNIQUE_GCP):
        job(f"gjob-{n}", f"{n * 7} 4 * * *", uri=fn(f"gfn-{n}", f"gcode-{n}"))


def plant_azure(azure: Mapping[str, Any]) -> None:
    """Plant the Azure part: timer-triggered function apps, a web site, an app without a timer.

    Most apps share one plan, one host storage account and one Application Insights component, as hand-made
    estates do; azjob-0 alone has its own of each (and finds its entry point in its function.json).
    """
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.resource.resources import models as rm
    from azure.mgmt.web import WebSiteManagementClient
    from azure.mgmt.web import models as wm

    web, arm = WebSiteManagementClient(**azure), ResourceManagementClient(**azure)
    where = f"/subscriptions/{azure['subscription_id']}/resourceGroups/{RG}/providers"

    def plan(name: str) -> str:
        return str(web.app_service_plans.begin_create_or_update(RG, name, wm.AppServicePlan(
            location="westeurope", kind="elastic", sku=wm.SkuDescription(name="EP1", tier="ElasticPremium"))
        ).result().id)

    def resource(path: str, name: str, version: str, **body: Any) -> None:
        arm.resources.begin_create_or_update_by_id(f"{where}/{path}/{name}", rm.GenericResource(
            location="westeurope", **body), api_version=version).result()

    shared, own = plan("legacy-plan"), plan("azjob0-plan")
    resource("Microsoft.Storage/storageAccounts", "legacyjobsstore", "2023-05-01", kind="StorageV2",
             sku=rm.Sku(name="Standard_LRS"))
    resource("Microsoft.Storage/storageAccounts", "azjob0store", "2023-05-01", kind="StorageV2",
             sku=rm.Sku(name="Standard_GRS"))
    resource("Microsoft.Insights/components", "legacy-insights", "2020-02-02", kind="web",
             properties={"InstrumentationKey": SHARED_KEY, "Application_Type": "web"})
    resource("Microsoft.Insights/components", "azjob-0", "2020-02-02", kind="web",
             properties={"InstrumentationKey": OWN_KEY, "Application_Type": "web"})

    def app(name: str, settings: Mapping[str, str], kind: str = "functionapp,linux", farm: str = shared) -> None:
        web.web_apps.begin_create_or_update(RG, name, wm.Site(
            location="westeurope", kind=kind, server_farm_id=farm, site_config=wm.SiteConfig(
                linux_fx_version="Python|3.11",
                app_settings=[wm.NameValuePair(name=k, value=v) for k, v in settings.items()]))).result()

    worker = {"FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsStorage": connection("legacyjobsstore"),
              "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey={SHARED_KEY};IngestionEndpoint=x"}
    app("nightlyrpt", {**worker, "TimerSchedule": "0 0 9 * * *", "WEBSITE_TIME_ZONE": "Europe/Berlin",
                       "LOCKSTEP_CODE_DIGEST": digest("report")})
    app("cleanupapp", {**worker, "CLEANUP_SCHEDULE": "0 30 2 * * *", "LOCKSTEP_ENTRY": "main.cleanup",
                       "LOCKSTEP_CODE_DIGEST": digest("cleanup-v2")})
    app("marketing-site", {"TimerSchedule": "0 0 * * * *"}, kind="app,linux")
    app("queue-worker", {**worker, "QUEUE_NAME": "orders"})
    app("inlinejob", {**worker, "LOCKSTEP_CODE_DIGEST": digest("az-inline")})  # the schedule is in function.json
    web.web_apps.begin_create_function(RG, "inlinejob", "nightly", wm.FunctionEnvelope(config={"bindings": [
        {"name": "timer", "type": "timerTrigger", "direction": "in", "schedule": "0 45 23 * * *"}]})).result()
    for n in range(UNIQUE_AZURE):
        settings = {**worker, "TimerSchedule": f"0 {n * 11} 5 * * *", "LOCKSTEP_CODE_DIGEST": digest(f"az-{n}"),
                    **({} if n == 0 else {"LOCKSTEP_ENTRY": "main.handler"})}
        if n == 0:
            settings.update({"AzureWebJobsStorage": connection("azjob0store"), "WEBSITE_TIME_ZONE": "Europe/Berlin",
                             "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey={OWN_KEY}"})
        app(f"azjob-{n}", settings, farm=own if n == 0 else shared)
    web.web_apps.begin_create_function(RG, "azjob-0", "timer", wm.FunctionEnvelope(config={  # the v1 model's layout
        "scriptFile": "../main.py", "entryPoint": "handler", "bindings": [
            {"name": "timer", "type": "timerTrigger", "direction": "in", "schedule": "%TimerSchedule%"}]})).result()


def connection(account: str) -> str:
    """Return a host storage connection string, account key included, as hand-made apps carry it."""
    return (f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={ACCOUNT_KEY};"
            "EndpointSuffix=core.windows.net")
