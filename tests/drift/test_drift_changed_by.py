"""Who changed it: each new incident asks its platform's audit source once; a failed lookup never fails the run."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.targets.changes import Asked
from tests.drift import seed
from tests.drift.fakearm import FakeArm
from tests.drift.support import deploy, drift, run, scratch

WF = "berlin-payroll-sync"
BASE = "lockstep-staging-berlin-payroll-sync"
ALICE = "arn:aws:iam::123456789012:user/alice"


@pytest.fixture(autouse=True)
def incidents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKSTEP_DRIFT_DIR", str(tmp_path / "incidents"))


def _event(name: str, user: str, at: dt.datetime, read_only: bool = False) -> dict[str, Any]:
    """Return one LookupEvents event as CloudTrail records it."""
    return {"EventId": f"{name}-{at:%H%M%S}", "EventName": name, "ReadOnly": "true" if read_only else "false",
            "EventTime": at, "EventSource": "scheduler.amazonaws.com", "Username": user.rsplit("/", 1)[-1],
            "Resources": [{"ResourceType": "AWS::Scheduler::Schedule", "ResourceName": BASE}],
            "CloudTrailEvent": json.dumps({"userIdentity": {"type": "IAMUser", "arn": user}, "eventName": name})}


@pytest.fixture
def cloudtrail(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Answer CloudTrail through botocore's Stubber on a real boto3 client (moto's server has no LookupEvents)."""
    import boto3
    from botocore.stub import Stubber

    from infra.targets.aws import audit

    client = boto3.client("cloudtrail", region_name="eu-central-1", endpoint_url=moto_url)
    real = audit.boto3.client
    monkeypatch.setattr(audit.boto3, "client", lambda svc, **kw: client if svc == "cloudtrail" else real(svc, **kw))
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_a_console_edit_names_the_principal_cloudtrail_records(
        tmp_path: Path, aws: Callable[[str], Any], cloudtrail: Any) -> None:
    from botocore.stub import ANY

    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs)})
    sch = aws("scheduler")
    live = sch.get_schedule(Name=BASE, GroupName=BASE)
    sch.update_schedule(Name=BASE, GroupName=BASE, ScheduleExpression=live["ScheduleExpression"],
                        ScheduleExpressionTimezone="Europe/London", FlexibleTimeWindow=live["FlexibleTimeWindow"],
                        Target=live["Target"], State="ENABLED")
    now = dt.datetime.now(dt.UTC)
    cloudtrail.add_response("lookup_events", {"Events": [
        _event("GetSchedule", "arn:aws:iam::123456789012:user/auditor", now, read_only=True),
        _event("UpdateSchedule", ALICE, now - dt.timedelta(minutes=3)),
        _event("UpdateFunctionConfiguration20150331v2", "arn:aws:iam::123456789012:user/bob",
               now - dt.timedelta(minutes=2)),
        _event("UpdateSchedule", "arn:aws:iam::123456789012:user/carol", now - dt.timedelta(days=3))]},
        {"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": BASE}], "StartTime": ANY,
         "EndTime": ANY, "MaxResults": 50})
    code, report = drift(root, "--stack", "staging", "--target", "aws")
    [incident] = report["incidents"]
    assert (code, incident["attribute"], incident["changed_by"]) == (1, "schedule_timezone", ALICE)
    assert incident["changed_by_note"].startswith("CloudTrail: UpdateSchedule at ")
    code, report = drift(root, "--stack", "staging", "--target", "aws")  # asked once: no second lookup stubbed
    assert (code, report["incidents"][0]["changed_by"]) == (1, ALICE)


def test_without_lookup_events_the_incident_says_why_and_the_run_still_reports_drift(
        tmp_path: Path, aws: Callable[[str], Any]) -> None:
    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs)})
    aws("lambda").update_function_configuration(FunctionName=BASE, Timeout=600)
    code, report = drift(root, "--stack", "staging", "--target", "aws")
    [incident] = report["incidents"]
    assert (code, incident["attribute"], incident["changed_by"]) == (1, "timeout_s", "")
    assert incident["changed_by_note"].startswith(("CloudTrail: LookupEvents failed: ", "the lookup failed: "))


def _jwt(upn: str) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"upn": upn}).encode()).decode().rstrip("=")
    return f"e30.{claims}.unsigned"


def test_an_app_setting_edited_by_a_named_user_names_them_from_the_activity_log(
        tmp_path: Path, azure: dict[str, Any]) -> None:
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.mgmt.web import WebSiteManagementClient
    from azure.mgmt.web.models import StringDictionary

    from infra import naming

    class AsAlice(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            request.http_request.headers["Authorization"] = f"Bearer {_jwt('alice@contoso.example')}"

    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"azure": lambda _wf, regs: seed.seed_azure(azure, regs)})
    app = naming.physical("lockstep", "staging", WF, naming.short_hash("westeurope"), limit=60)
    web = WebSiteManagementClient(**{**azure, "authentication_policy": AsAlice()})
    settings = dict(web.web_apps.list_application_settings("rg-lockstep-staging", app).properties)
    settings["WEBSITE_TIME_ZONE"] = "UTC"
    web.web_apps.update_application_settings("rg-lockstep-staging", app, StringDictionary(properties=settings))
    code, report = drift(root, "--stack", "staging", "--target", "azure")
    [incident] = report["incidents"]
    assert (code, incident["attribute"], incident["changed_by"]) == (1, "time_zone", "alice@contoso.example")
    assert incident["changed_by_note"].startswith("Azure Activity Log: Microsoft.Web/sites/config/write at ")
    _code, table = run("drift", "--stack", "staging", "--target", "azure", "--root", str(root))
    assert f"incident {incident['id']} open: {WF} on azure timezone, first seen {incident['first_seen']}, changed " \
           "by alice@contoso.example (Azure Activity Log: Microsoft.Web/sites/config/write at " in table


def test_an_activity_log_that_cannot_be_read_leaves_the_principal_empty_with_the_reason(
        tmp_path: Path, azure: dict[str, Any], fake_arm: FakeArm) -> None:
    from azure.mgmt.web import WebSiteManagementClient

    from infra import naming

    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"azure": lambda _wf, regs: seed.seed_azure(azure, regs)})
    plan = naming.physical("lockstep", "staging", WF, "plan", limit=60)
    web = WebSiteManagementClient(**azure)
    farm = web.app_service_plans.get("rg-lockstep-staging", plan)
    farm.sku.name = "EP2"
    web.app_service_plans.begin_create_or_update("rg-lockstep-staging", plan, farm).result()
    fake_arm.fail["eventtypes/management"] = 403
    code, report = drift(root, "--stack", "staging", "--target", "azure")
    [incident] = report["incidents"]
    assert (code, incident["changed_by"]) == (1, "")
    assert incident["changed_by_note"].startswith("Azure Activity Log: the query failed: ")


def _audit_entry(gcp: dict[str, Any], resource: str, method: str, who: str) -> None:
    """Write the Admin Activity entry Cloud Audit Logs writes for an API call (drongo writes none itself)."""
    from google.cloud.audit import audit_log_pb2
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.protobuf import any_pb2

    audit = audit_log_pb2.AuditLog(method_name=method, resource_name=resource,
                                   service_name="cloudscheduler.googleapis.com")
    audit.authentication_info.principal_email = who
    payload = any_pb2.Any()
    payload.Pack(audit)
    LoggingServiceV2Client(**gcp).write_log_entries(request={"entries": [{
        "log_name": "projects/acme-lockstep-staging/logs/cloudaudit.googleapis.com%2Factivity",
        "resource": {"type": "cloud_scheduler_job", "labels": {"project_id": "acme-lockstep-staging"}},
        "proto_payload": payload}]})


def test_a_job_edited_on_gcp_names_the_principal_of_its_audit_entry(tmp_path: Path, gcp: dict[str, Any]) -> None:
    from google.cloud import scheduler_v1

    wf, base = "nightly-ledger-export", "lockstep-staging-nightly-ledger-export"
    root = scratch(tmp_path / "repo", [wf])
    deploy(root, "staging", {"gcp": lambda _wf, regs: seed.seed_gcp(gcp, regs)})
    job = f"projects/acme-lockstep-staging/locations/europe-west1/jobs/{base}"
    client = scheduler_v1.CloudSchedulerClient(**gcp)
    live = client.get_job(name=job)
    live.time_zone = "Asia/Tokyo"
    client.update_job(job=live, update_mask={"paths": ["time_zone"]})
    _audit_entry(gcp, job, "google.cloud.scheduler.v1.CloudScheduler.UpdateJob", "bob@acme.example")
    _audit_entry(gcp, job.replace(base, "someone-else"), "google.cloud.scheduler.v1.CloudScheduler.UpdateJob",
                 "mallory@acme.example")  # newer, but another job: a server that ignores the filter is checked
    code, report = drift(root, "--stack", "staging", "--target", "gcp")
    assert len(report["incidents"]) == 1, [f["detail"] for f in report["findings"]]
    [incident] = report["incidents"]
    assert (code, incident["attribute"], incident["changed_by"]) == (1, "time_zone", "bob@acme.example")
    assert incident["changed_by_note"].startswith("Cloud Audit Logs: google.cloud.scheduler.v1.CloudScheduler."
                                                  "UpdateJob at ")


def test_an_onprem_hand_edit_names_the_account_and_why_no_person(tmp_path: Path) -> None:
    from infra.drift.desired import declaration
    from infra.targets.onprem.audit import changed_by

    decl = declaration(scratch(tmp_path / "repo", [WF]), "staging", [WF], ["onprem"], packages=False)
    [declared] = decl.declared
    change = changed_by(decl.stack, Asked(WF, "schedule", "field", declared.desired, "2026-12-02T04:00:00Z"), {})
    assert change.principal == ""
    assert change.note() == ("host: changed by hand as lockstep@batch-01 (its crontab and files); who logged in as "
                             "it is only in the host's auth log, which that user cannot read")


def test_lookups_are_bounded_per_run_and_a_failing_source_leaves_the_reason(tmp_path: Path) -> None:
    from infra.drift.attribute import MAX_LOOKUPS, attribute
    from infra.drift.desired import declaration
    from infra.drift.reconcile import Incident, JsonIncidentStore
    from infra.targets.changes import Change

    decl = declaration(scratch(tmp_path / "repo", [WF]), "staging", [WF], ["aws", "gcp"], packages=False)
    asked: list[str] = []

    def cloudtrail(_stack: Any, question: Asked, _connect: Any) -> Change:
        asked.append(question.attribute)
        return Change("arn:aws:iam::123456789012:user/alice", "2026-12-02T03:59:00Z", "UpdateSchedule", "CloudTrail")

    def broken(_stack: Any, _question: Asked, _connect: Any) -> Change:
        raise ConnectionError("audit endpoint unreachable")

    def incident(n: int, target: str = "aws", kind: str = "field") -> Incident:
        return Incident(f"id{n:03d}", "staging", WF if kind != "unmanaged" else "retired", target, kind, "x",
                        f"field{n}", 1, 2, "out-of-band", "2026-12-02T04:00:00Z", "2026-12-02T04:00:00Z")

    opened = [incident(901, kind="unmanaged"), incident(900, "gcp"), *(incident(n) for n in range(MAX_LOOKUPS + 5))]
    store = JsonIncidentStore(tmp_path, "staging")
    done = {i.id: i for i in attribute(decl, opened, store, {"aws": {}, "gcp": {}},
                                       {"aws": cloudtrail, "gcp": broken})}
    assert len(asked) == MAX_LOOKUPS - 1  # the failed GCP lookup counts too
    assert [done[f"id{n:03d}"].changed_by_note for n in (0, MAX_LOOKUPS - 1)] == [
        "CloudTrail: UpdateSchedule at 2026-12-02T03:59:00Z",
        f"not looked up: more than {MAX_LOOKUPS} new incidents in one run"]
    assert (done["id900"].changed_by, done["id900"].changed_by_note) == (
        "", "the lookup failed: ConnectionError: audit endpoint unreachable")
    assert done["id901"].changed_by_note == "not looked up: an unmanaged resource belongs to no declared workflow"
    assert store.get("id000") == done["id000"]
    assert attribute(decl, list(done.values()), store, {}, {"aws": cloudtrail}) == []  # answered: never asked again
    assert len(asked) == MAX_LOOKUPS - 1
