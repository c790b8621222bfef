"""From the user's side: adopt live schedules, deploy them, and `lockstep drift` reads them under their live names.

The deploy stands in for the `pulumi up` that imports the adopted children: what the program registers (the
adopted children keep their live names and group) is applied to moto and drongo, updating the live resources in
place. Drift must then find the adopted workflows in sync, call none of them missing or unmanaged, and report a
change made afterwards through boto3 or the Google Cloud client on the live resource, naming that resource.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.drift import seed
from tests.drift.support import deploy, drift, fields, run
from tests.importer import estate
from tests.importer.test_adopt_imports import NIGHTLY, WEEKLY, WHERE, adopt, lockstep

TARGETS = ("--target", "aws", "--target", "gcp")


def _adopted(root: Path, aws: Callable[[str], Any], gcp: dict[str, Any]) -> Path:
    """Adopt the nightly report (AWS, a shared group) and the weekly digest (GCP), then deploy the stack."""
    estate.write_source(root / "workflows" / "functions" / "nightly_report", "report")
    estate.write_source(root / "workflows" / "functions" / "weekly_digest_v2", "digest")
    code, out = adopt(root, NIGHTLY, WEEKLY)
    assert code == 0, out
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs),
                             "gcp": lambda _wf, regs: seed.seed_gcp(gcp, regs)})
    return root


def test_adopted_workflows_are_read_under_their_live_names_and_are_in_sync(
        estate_repo: Path, aws: Callable[[str], Any], gcp: dict[str, Any]) -> None:
    root = _adopted(estate_repo, aws, gcp)
    assert aws("scheduler").get_schedule(Name="nightly-report", GroupName="reports")  # no copy was made
    code, report = drift(root, "--stack", "staging", *TARGETS, "--no-record")
    assert (code, report["verdict"]) == (0, "in-sync"), [(f["workflow"], f["kind"], f["attribute"], f["detail"])
                                                        for f in report["findings"]]
    assert report["findings"] == []  # neither missing nor unmanaged, nor any field
    assert report["cost"]["resources"]["aws"] >= 4 and report["cost"]["resources"]["gcp"] >= 4


def test_a_schedule_zone_changed_on_the_adopted_aws_schedule_is_drift_naming_it(
        estate_repo: Path, aws: Callable[[str], Any], gcp: dict[str, Any]) -> None:
    root = _adopted(estate_repo, aws, gcp)
    sch = aws("scheduler")
    live = sch.get_schedule(Name="nightly-report", GroupName="reports")
    sch.update_schedule(Name="nightly-report", GroupName="reports", ScheduleExpression=live["ScheduleExpression"],
                        ScheduleExpressionTimezone="Europe/London", FlexibleTimeWindow=live["FlexibleTimeWindow"],
                        Target=live["Target"], State="ENABLED")
    code, report = drift(root, "--stack", "staging", *TARGETS)
    assert (code, fields(report)) == (1, [("drift", "nightly-report", "aws", "schedule_timezone", "Europe/Berlin",
                                           "Europe/London")])
    [finding] = report["findings"]
    assert (finding["cause"], finding["resource"]) == ("out-of-band", "Schedule reports/nightly-report")
    assert [i["workflow"] for i in report["incidents"]] == ["nightly-report"]
    _code, table = run("drift", "--root", str(root), "--stack", "staging", *TARGETS, "--no-record")
    assert "on Schedule reports/nightly-report" in table


def test_a_changed_memory_on_the_adopted_function_and_schedule_on_the_gcp_job_are_drift_naming_them(
        estate_repo: Path, aws: Callable[[str], Any], gcp: dict[str, Any]) -> None:
    from google.cloud import scheduler_v1

    root = _adopted(estate_repo, aws, gcp)
    aws("lambda").update_function_configuration(FunctionName="nightly-report", MemorySize=1024)
    jobs = scheduler_v1.CloudSchedulerClient(**gcp)
    jobs.update_job(job=scheduler_v1.Job(name=f"{WHERE}/jobs/weekly-digest-v2", schedule="0 9 * * 1"),
                    update_mask={"paths": ["schedule"]})
    code, report = drift(root, "--stack", "staging", *TARGETS, "--no-record")
    got = {(f["workflow"], f["target"], f["attribute"], f["resource"]): (f["desired"], f["live"])
           for f in report["findings"]}
    assert code == 1
    assert got == {("nightly-report", "aws", "memory_mb", "Function nightly-report"): (256, 1024),
                   ("weekly-digest-v2", "gcp", "schedule", "Job weekly-digest-v2"): ("0 7 * * 1", "0 9 * * 1")}


def test_an_adopted_resource_deleted_by_hand_is_missing_under_its_live_name(
        estate_repo: Path, aws: Callable[[str], Any], gcp: dict[str, Any]) -> None:
    root = _adopted(estate_repo, aws, gcp)
    aws("scheduler").delete_schedule(Name="nightly-report", GroupName="reports")
    code, report = drift(root, "--stack", "staging", *TARGETS, "--no-record")
    assert code == 1
    assert [(f["workflow"], f["kind"], f["detail"]) for f in report["findings"]] == [
        ("nightly-report", "missing", "schedule reports/nightly-report does not exist")]


def test_discover_after_the_deploy_says_the_adopted_schedules_are_locksteps(
        estate_repo: Path, aws: Callable[[str], Any], gcp: dict[str, Any]) -> None:
    root = _adopted(estate_repo, aws, gcp)
    code, found = lockstep("import", "discover", "--root", str(root), "--stack", "staging", *TARGETS, "--json")
    managed = {i["key"]: i["managed"] for i in found["items"]}
    assert code == 0
    assert (managed[NIGHTLY], managed[WEEKLY]) == ("nightly-report", "weekly-digest-v2")


def test_discover_right_after_adopt_says_which_workflow_adopts_each_schedule(estate_repo: Path) -> None:
    root = estate_repo
    estate.write_source(root / "workflows" / "functions" / "nightly_report", "report")
    assert adopt(root, NIGHTLY)[0] == 0  # not deployed yet: the schedule carries no stamp, only the record says so
    code, found = lockstep("import", "discover", "--root", str(root), "--stack", "staging", *TARGETS, "--json")
    managed = {i["key"]: i["managed"] for i in found["items"]}
    assert (code, managed[NIGHTLY], managed[WEEKLY]) == (0, "nightly-report", "")
