"""`lockstep drift` against the fake ARM: an app setting edited in the portal, a plan resized, an app deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra import naming
from tests.drift import seed
from tests.drift.fakearm import FakeArm
from tests.drift.support import deploy, drift, fields, scratch

WF = "berlin-payroll-sync"
RG = "rg-lockstep-staging"
APP = naming.physical("lockstep", "staging", WF, naming.short_hash("westeurope"), limit=60)


@pytest.fixture
def repo(tmp_path: Path, azure: dict[str, Any]) -> Path:
    root = scratch(tmp_path / "repo", [WF])
    deploy(root, "staging", {"azure": lambda _wf, regs: seed.seed_azure(azure, regs)})
    return root


def _web(azure: dict[str, Any]) -> Any:
    from azure.mgmt.web import WebSiteManagementClient

    return WebSiteManagementClient(**azure)


def test_a_freshly_deployed_workflow_is_in_sync(repo: Path) -> None:
    code, report = drift(repo, "--stack", "staging", "--target", "azure")
    assert (code, report["findings"]) == (0, []), [
        (f["attribute"], f["desired"], f["live"]) for f in report["findings"]]


def test_the_time_zone_app_setting_edited_in_the_portal_is_drift_with_first_diverging_fire(
        repo: Path, azure: dict[str, Any]) -> None:
    from azure.mgmt.web.models import StringDictionary

    web = _web(azure)
    settings = dict(web.web_apps.list_application_settings(RG, APP).properties)
    settings["WEBSITE_TIME_ZONE"] = "UTC"
    web.web_apps.update_application_settings(RG, APP, StringDictionary(properties=settings))
    code, report = drift(repo, "--stack", "staging", "--target", "azure")
    assert (code, fields(report)) == (1, [("drift", WF, "azure", "time_zone", "Europe/Berlin", "UTC")])
    assert report["findings"][0]["first_diverging"]


def test_a_deleted_function_app_is_missing(repo: Path, azure: dict[str, Any]) -> None:
    _web(azure).web_apps.delete(RG, APP)
    code, report = drift(repo, "--stack", "staging", "--target", "azure")
    assert (code, [(f["kind"], f["detail"]) for f in report["findings"]]) == (
        1, [("missing", f"function app {APP} does not exist")])


def test_a_throttled_read_is_retried_then_inconclusive(repo: Path, fake_arm: FakeArm) -> None:
    fake_arm.fail["/config/appsettings/list"] = 429
    code, report = drift(repo, "--stack", "staging", "--target", "azure")
    assert (code, [f["kind"] for f in report["findings"]]) == (3, ["inconclusive"])
    lists = [p for m, p in fake_arm.requests if p.lower().endswith("/config/appsettings/list")]
    assert len(lists) == 4  # bounded: the first try and 3 retries with backoff
