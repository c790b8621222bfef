"""Azure under mocks: the timer reads its schedule from an app setting; plan, zone, retry, timeout, alerts."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra import program
from infra.errors import SpecInvalid
from infra.loader import load_repo
from tests.targets_support import REPO, one, prod, settings

APP = "azure-native:web:WebApp"


def test_azure_timer_schedule_zone_and_timeout_are_app_settings() -> None:
    app = one(prod(), APP, "berlin-payroll-sync-function")
    s = settings(app)
    assert s["LOCKSTEP_SCHEDULE"] == "0 15 9 * * 1-5", app.urn
    assert s["WEBSITE_TIME_ZONE"] == "Europe/Berlin", f"{app.urn}: Linux Premium takes the IANA name"
    assert s["AzureFunctionsJobHost__functionTimeout"] == "00:05:00", app.urn
    assert app.inputs["kind"] == "functionapp,linux" and app.inputs["reserved"] is True, app.urn


def test_azure_utc_workflow_sets_no_time_zone() -> None:
    app = one(prod(), APP, "nightly-ledger-export-function")
    assert "WEBSITE_TIME_ZONE" not in settings(app), app.urn


def test_azure_package_is_content_addressed_and_its_shim_binds_the_schedule_setting() -> None:
    cap = prod()
    blob = one(cap, "azure-native:storage:Blob", "monthly-invoice-run-package")
    path = blob.inputs["source"].path
    assert blob.inputs["blobName"] in path, f"{blob.urn}: blob name is the archive's content digest"
    with zipfile.ZipFile(path) as archive:
        shim = archive.read("function_app.py").decode()
        host = json.loads(archive.read("host.json"))
        assert "app/main.py" in archive.namelist()
    assert 'schedule="%LOCKSTEP_SCHEDULE%"' in shim
    assert "functionTimeout" not in host, "the app setting AzureFunctionsJobHost__functionTimeout carries it"
    url = settings(one(cap, APP, "monthly-invoice-run-function"))["WEBSITE_RUN_FROM_PACKAGE"]
    assert url.endswith(f"/packages/{blob.inputs['blobName']}"), url


def test_azure_shim_applies_the_registered_retry_policy_and_entry(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the generated function_app.py with the app settings the program registered, as the host would."""
    cap = prod()
    app_settings = settings(one(cap, APP, "monthly-invoice-run-function"))
    blob = one(cap, "azure-native:storage:Blob", "monthly-invoice-run-package")
    with zipfile.ZipFile(blob.inputs["source"].path) as archive:
        archive.extractall(tmp_path)
    retries: list[dict[str, str]] = []

    class FunctionApp:
        def function_name(self, name: str) -> Any:
            return lambda f: f

        def retry(self, **kw: str) -> Any:
            retries.append(kw)
            return lambda f: f

        def timer_trigger(self, **kw: Any) -> Any:
            assert kw["schedule"] == "%LOCKSTEP_SCHEDULE%"
            return lambda f: f

    fake = types.ModuleType("azure.functions")
    fake.FunctionApp = FunctionApp  # type: ignore[attr-defined]
    fake.TimerRequest = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure", types.ModuleType("azure"))
    monkeypatch.setitem(sys.modules, "azure.functions", fake)
    for key in ("LOCKSTEP_ENTRY", "LOCKSTEP_RETRY"):
        monkeypatch.setenv(key, app_settings[key])
    spec = importlib.util.spec_from_file_location("function_app", tmp_path / "function_app.py")
    assert spec and spec.loader
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    monkeypatch.delitem(sys.modules, "lockstep_user_main", raising=False)
    assert retries == [{"strategy": "exponential_backoff", "max_retry_count": "2", "minimum_interval": "00:01:00",
                        "maximum_interval": "00:10:00"}]


def test_azure_hosting_plan_is_the_stacks_plan() -> None:
    plan = one(prod(), "azure-native:web:AppServicePlan", "ny-morning-report-plan")
    assert plan.inputs["sku"] == {"name": "EP1", "tier": "ElasticPremium"}, plan.urn
    assert plan.inputs["kind"] == "elastic" and plan.inputs["reserved"] is True, plan.urn


def test_azure_secrets_are_key_vault_references_readable_only_by_this_app() -> None:
    cap = prod()
    s = settings(one(cap, APP, "berlin-payroll-sync-function"))
    assert s["PAYROLL_API_TOKEN"] == "@Microsoft.KeyVault(VaultName=kv-lockstep-prod;SecretName=payroll-api-token)"
    role = one(cap, "azure-native:authorization:RoleAssignment", "berlin-payroll-sync-secret-0-role")
    assert role.inputs["scope"].endswith(
        "/resourceGroups/rg-lockstep-prod/providers/Microsoft.KeyVault/vaults/kv-lockstep-prod/secrets/"
        "payroll-api-token"), role.urn
    assert role.inputs["roleDefinitionId"].endswith("4633458b-17de-408a-b874-0445c86b69e6"), role.urn


def test_azure_host_storage_role_is_scoped_to_the_workflows_own_account() -> None:
    cap = prod()
    role = one(cap, "azure-native:authorization:RoleAssignment", "ny-morning-report-storage-role")
    storage = one(cap, "azure-native:storage:StorageAccount", "ny-morning-report-storage")
    assert role.inputs["scope"].endswith(f"/{storage.name}"), role.urn
    assert role.inputs["roleDefinitionId"].endswith("b7e6dc6d-f1e8-4753-8033-0f276bb0955b"), role.urn
    assert storage.inputs["allowSharedKeyAccess"] is False, storage.urn


def test_azure_failures_alert_on_insights_reaches_the_action_group_emails() -> None:
    cap = prod()
    alert = one(cap, "azure-native:monitor:MetricAlert", "ny-morning-report-failures-alert")
    criteria = alert.inputs["criteria"]["allOf"][0]
    assert (criteria["metricName"], criteria["operator"], criteria["threshold"]) == ("requests/failed",
                                                                                      "GreaterThan", 0), alert.urn
    group = one(cap, "azure-native:monitor:ActionGroup", "ny-morning-report-action-group")
    assert [r["emailAddress"] for r in group.inputs["emailReceivers"]] == ["trading-ops@example.com"], group.urn


def test_azure_refuses_local_zone_on_linux_consumption() -> None:
    result = load_repo(REPO).require_valid()
    stack = result.stack("prod")
    assert stack.azure is not None
    consumption = dataclasses.replace(stack, azure=dataclasses.replace(stack.azure, plan="consumption"))
    with pytest.raises(SpecInvalid) as caught:
        program.build(result, consumption, commit_of=lambda _wf: "uncommitted")
    lines = [e.render() for e in caught.value.errors]
    assert any(line.startswith("workflows/berlin_payroll_sync.py:11: schedule:") and "Linux consumption" in line
               for line in lines), lines
    assert any(line.startswith("workflows/new_york_morning_report.py:") for line in lines), lines
