"""A schedule edited on one platform is drift against the other platforms, judged by fire times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.drift import seed
from tests.drift.fakearm import FakeArm
from tests.drift.support import deploy, drift, scratch

WF = "berlin-payroll-sync"
BASE = "lockstep-staging-berlin-payroll-sync"


@pytest.fixture
def repo(tmp_path: Path, aws: Callable[[str], Any], gcp: dict[str, Any], azure: dict[str, Any],
         fake_arm: FakeArm) -> Path:
    import drongo.core.decorator

    drongo.core.decorator._CONTROLLER._responses.add_passthru(fake_arm.url)  # mock_gcp patches requests
    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs),
                             "gcp": lambda _wf, regs: seed.seed_gcp(gcp, regs),
                             "azure": lambda _wf, regs: seed.seed_azure(azure, regs)})
    return root


def _args() -> list[str]:
    return ["--stack", "staging", "--target", "aws", "--target", "gcp", "--target", "azure"]


def test_three_freshly_deployed_targets_are_in_sync(repo: Path) -> None:
    code, report = drift(repo, *_args())
    assert (code, report["findings"]) == (0, []), [f["detail"] for f in report["findings"]]


def test_a_zone_edited_on_aws_only_is_cross_target_drift_against_gcp_and_azure(
        repo: Path, aws: Callable[[str], Any]) -> None:
    sch = aws("scheduler")
    live = sch.get_schedule(Name=BASE, GroupName=BASE)
    sch.update_schedule(Name=BASE, GroupName=BASE, ScheduleExpression=live["ScheduleExpression"],
                        ScheduleExpressionTimezone="America/New_York", FlexibleTimeWindow=live["FlexibleTimeWindow"],
                        Target=live["Target"], State="ENABLED")
    code, report = drift(repo, *_args())
    got = [(f["kind"], f["target"], f["attribute"]) for f in report["findings"]]
    assert (code, got) == (1, [("field", "aws", "schedule_timezone"), ("cross-target", "aws", "fire times")])
    cross = report["findings"][1]
    assert cross["detail"].startswith("aws's live schedule fires differently from azure, gcp (which still fire "
                                      "as declared)")
    assert cross["first_diverging"] == report["findings"][0]["first_diverging"] != ""
    assert cross["desired"] != cross["live"]
