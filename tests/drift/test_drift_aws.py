"""`lockstep drift` against moto's server: console edits of a schedule, a retry, a Lambda's code are reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.drift import seed
from tests.drift.support import deploy, drift, fields, scratch

WF = "berlin-payroll-sync"
BASE = "lockstep-staging-berlin-payroll-sync"


@pytest.fixture
def repo(tmp_path: Path, aws: Callable[[str], Any]) -> Path:
    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs)})
    return root


def test_a_freshly_deployed_workflow_is_in_sync(repo: Path) -> None:
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, report["verdict"], report["findings"]) == (0, "in-sync", []), [
        f["detail"] for f in report["findings"]]


def test_a_schedule_zone_edited_in_the_console_is_drift_with_its_first_diverging_fire(
        repo: Path, aws: Callable[[str], Any]) -> None:
    sch = aws("scheduler")
    live = sch.get_schedule(Name=BASE, GroupName=BASE)
    sch.update_schedule(Name=BASE, GroupName=BASE, ScheduleExpression=live["ScheduleExpression"],
                        ScheduleExpressionTimezone="Europe/London", FlexibleTimeWindow=live["FlexibleTimeWindow"],
                        Target=live["Target"], State="ENABLED")
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert code == 1
    assert fields(report) == [("drift", WF, "aws", "schedule_timezone", "Europe/Berlin", "Europe/London")]
    assert report["findings"][0]["cause"] == "out-of-band"
    first = dt.datetime.fromisoformat(report["findings"][0]["first_diverging"])
    assert first.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M %a") in {
        f"09:15 {d}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")}
    assert report["findings"][0]["detail"].startswith("first diverging fire: git fires ")


def test_a_retry_count_changed_on_the_function_is_drift(repo: Path, aws: Callable[[str], Any]) -> None:
    lam = aws("lambda")
    lam.delete_function_event_invoke_config(FunctionName=BASE)  # moto appends on a second put: replace it
    lam.put_function_event_invoke_config(FunctionName=BASE, MaximumRetryAttempts=0, MaximumEventAgeInSeconds=3600)
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, fields(report)) == (1, [("drift", WF, "aws", "lambda_retries", 1, 0)])


def test_new_code_uploaded_to_the_lambda_is_drift_of_the_code(repo: Path, aws: Callable[[str], Any]) -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app/main.py", "def handler(event, context):\n    return 'hotfix'\n")
    aws("lambda").update_function_code(FunctionName=BASE, ZipFile=buf.getvalue())
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    [(level, _wf, _t, attribute, git, live)] = fields(report)
    assert (code, level, attribute) == (1, "drift", "code_digest")
    assert str(live).startswith("package sha256 ") and git not in str(live)


def test_memory_within_the_stack_tolerance_is_a_warning_and_beyond_it_drift(
        repo: Path, aws: Callable[[str], Any]) -> None:
    lam = aws("lambda")
    lam.update_function_configuration(FunctionName=BASE, MemorySize=272)  # +6 %: within the default 10 %
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, fields(report)) == (0, [("warning", WF, "aws", "memory_mb", 256, 272)])
    lam.update_function_configuration(FunctionName=BASE, MemorySize=512)
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, fields(report)) == (1, [("drift", WF, "aws", "memory_mb", 256, 512)])


def test_a_stamped_schedule_group_no_workflow_declares_is_reported_unmanaged(
        repo: Path, aws: Callable[[str], Any]) -> None:
    aws("scheduler").create_schedule_group(Name="lockstep-staging-retired-report", Tags=[
        {"Key": "lockstep-workflow", "Value": "retired-report"}])
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, fields(report)) == (1, [("drift", "retired-report", "aws", "lockstep-staging-retired-report",
                                           None, None)])
    assert report["findings"][0]["kind"] == "unmanaged"


def test_an_unreachable_platform_is_inconclusive_never_in_sync(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKSTEP_AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, report["verdict"]) == (3, "inconclusive")
    assert {(f["workflow"], f["kind"]) for f in report["findings"]} == {(WF, "inconclusive"), ("", "inconclusive")}
    assert all("Could not connect" in f["detail"] or "connect" in f["detail"].lower() for f in report["findings"])


def test_narrowing_to_one_workflow_does_not_call_the_others_ghosts(tmp_path: Path, aws: Callable[[str], Any]) -> None:
    root = scratch(tmp_path / "repo", [WF, "nightly-ledger-export"])
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs)})
    code, report = drift(root, "--stack", "staging", "--target", "aws", "--workflow", WF)
    assert (code, report["findings"]) == (0, [])
    aws("scheduler").create_schedule_group(Name="lockstep-staging-retired-report", Tags=[
        {"Key": "lockstep-workflow", "Value": "retired-report"}])
    code, report = drift(root, "--stack", "staging", "--target", "aws", "--workflow", WF)
    assert (code, [(f["kind"], f["workflow"]) for f in report["findings"]]) == (1, [("unmanaged", "retired-report")])


def test_the_table_markdown_and_sarif_reports_name_the_drifted_field(repo: Path, aws: Callable[[str], Any]) -> None:
    import json

    from tests.drift.support import run

    aws("lambda").update_function_configuration(FunctionName=BASE, Timeout=600)
    args = ("drift", "--stack", "staging", "--target", "aws", "--root", str(repo), "--no-record")
    code, table = run(*args)
    lines = table.splitlines()
    assert code == 1 and lines[0].split() == ["LEVEL", "WORKFLOW", "TARGET", "FIELD", "GIT", "LIVE"]
    assert lines[1].split() == ["drift", WF, "aws", "timeout", "(timeout_s)", "300", "600", "[out-of-band]", "on",
                                "Function", BASE]
    assert lines[-1].startswith("lockstep drift: drift — ") and "API calls for" in lines[-1]
    _code, md = run(*args, "--format", "markdown")
    assert md.startswith("## Lockstep drift: DRIFT\n") and f"| drift | {WF} | aws | timeout (timeout_s) | 300 |" in md
    _code, sarif = run(*args, "--format", "sarif")
    [result] = json.loads(sarif)["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("drift/field", "error")
