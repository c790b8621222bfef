"""`lockstep drift` against moto's server: console edits of a schedule, a retry, a Lambda's code are reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from zoneinfo import ZoneInfo

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
    assert (code, report["verdict"], report["findings"]) == (0, "in-sync", []), [f["detail"] for f in report["findings"]]


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
