"""Point reads and list reads see the same state; lists page, and a failed list is inconclusive, never in sync."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.drift import seed
from tests.drift.fakearm import FakeArm
from tests.drift.support import deploy, drift, fields, scratch

WFS = ["berlin-payroll-sync", "nightly-ledger-export"]
ARGS = ("--stack", "staging", "--target", "aws", "--target", "gcp", "--target", "azure")


@pytest.fixture
def repo(tmp_path: Path, aws: Callable[[str], Any], gcp: dict[str, Any], azure: dict[str, Any],
         fake_arm: FakeArm) -> Path:
    import drongo.core.decorator

    drongo.core.decorator._CONTROLLER._responses.add_passthru(fake_arm.url)  # mock_gcp patches requests
    root = scratch(tmp_path / "repo", WFS)
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs),
                             "gcp": lambda _wf, regs: seed.seed_gcp(gcp, regs),
                             "azure": lambda _wf, regs: seed.seed_azure(azure, regs)})
    return root


def _pairs(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["workflow"], f["target"]) for f in report["findings"]}


def test_point_reads_and_list_reads_agree_and_lists_cost_fewer_calls(
        repo: Path, aws: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    aws("lambda").update_function_configuration(FunctionName="lockstep-staging-berlin-payroll-sync", Timeout=600)
    reports = {}
    for mode in ("point", "list"):
        monkeypatch.setenv("LOCKSTEP_DRIFT_READS", mode)
        code, reports[mode] = drift(repo, *ARGS, "--no-record")
        assert (code, fields(reports[mode])) == (1, [("drift", WFS[0], "aws", "timeout_s", 300, 600)]), (
            mode, [f["detail"] for f in reports[mode]["findings"]])
    point, listed = reports["point"]["cost"], reports["list"]["cost"]
    assert point["resources"] == listed["resources"]
    assert sum(point["calls"].values()) == sum(point["resources"].values()) + 3  # + one unmanaged sweep each
    assert listed["calls"]["gcp"] < point["calls"]["gcp"] and listed["calls"]["azure"] < point["calls"]["azure"]
    assert listed["calls"]["aws"] < point["calls"]["aws"]


def test_azure_lists_are_followed_page_by_page(repo: Path, fake_arm: FakeArm) -> None:
    fake_arm.page_size = 1  # two apps, plans and action groups: two pages each
    code, report = drift(repo, "--stack", "staging", "--target", "azure", "--no-record")
    assert (code, report["findings"]) == (0, []), [f["detail"] for f in report["findings"]]
    pages = [p for m, p in fake_arm.requests if m == "GET" and p.lower().endswith("/providers/microsoft.web/sites")]
    assert len(pages) == 2


def test_a_failed_list_makes_every_workflow_of_the_group_inconclusive(repo: Path, fake_arm: FakeArm) -> None:
    fake_arm.fail["/providers/microsoft.web/serverfarms"] = 403
    code, report = drift(repo, "--stack", "staging", "--target", "azure", "--no-record")
    assert (code, report["verdict"]) == (3, "inconclusive")
    assert {(f["workflow"], f["kind"]) for f in report["findings"]} == {(w, "inconclusive") for w in WFS}
    assert all("listing function apps, plans and action groups in rg-lockstep-staging: HTTP 403" in f["detail"]
               for f in report["findings"])
