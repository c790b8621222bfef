"""From the user's side on Azure: adopt function apps, deploy them, and `lockstep drift` reads them where they live.

azjob-0's record keeps its live app, plan, storage account and component (all in the estate's resource group, not
Lockstep's per-workflow one); azjob-1's keeps only its app, so its new plan is made beside it. The deploy stands in
for the `pulumi up` that imports them: what the program registers is applied to the fake ARM through the Azure SDK,
updating the live apps in place. Drift must find them in sync under their live names, and name the live app when
its schedule is changed afterwards through the Azure SDK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.drift import seed
from tests.drift.support import deploy, drift, run
from tests.importer import estate
from tests.importer.test_adopt_azure import OWN, SHARING, adopt

TARGETS = ("--target", "azure")


def _adopted(root: Path, azure: dict[str, Any]) -> Path:
    estate.write_source(root / "workflows" / "functions" / "azjob_0", "az-0")
    estate.write_source(root / "workflows" / "functions" / "azjob_1", "az-1")
    code, out = adopt(root, OWN, SHARING)
    assert code == 0, out
    deploy(root, "staging", {"azure": lambda _wf, regs: seed.seed_azure(azure, regs)})
    return root


def test_adopted_function_apps_are_read_under_their_live_names_and_groups_and_are_in_sync(
        estate_repo: Path, azure: dict[str, Any]) -> None:
    from azure.mgmt.web import WebSiteManagementClient

    root = _adopted(estate_repo, azure)
    web = WebSiteManagementClient(**azure)
    apps = {a.name for a in web.web_apps.list_by_resource_group(estate.RG)}
    assert {"azjob-0", "azjob-1"} <= apps and not [a for a in apps if "azjob" in a and a.startswith("lockstep")]
    code, report = drift(root, "--stack", "staging", *TARGETS, "--no-record")
    assert (code, report["verdict"]) == (0, "in-sync"), [(f["workflow"], f["kind"], f["attribute"], f["detail"])
                                                        for f in report["findings"]]
    assert report["findings"] == []  # neither missing nor unmanaged, nor any field


def test_a_schedule_changed_on_an_adopted_app_is_drift_naming_the_live_app(
        estate_repo: Path, azure: dict[str, Any]) -> None:
    from azure.mgmt.web import WebSiteManagementClient
    from azure.mgmt.web import models as wm

    root = _adopted(estate_repo, azure)
    web = WebSiteManagementClient(**azure)
    settings = dict(web.web_apps.list_application_settings(estate.RG, "azjob-0").properties or {})
    web.web_apps.update_application_settings(estate.RG, "azjob-0", wm.StringDictionary(
        properties={**settings, "LOCKSTEP_SCHEDULE": "0 30 5 * * *"}))
    code, report = drift(root, "--stack", "staging", *TARGETS, "--no-record")
    assert code == 1, report
    got = [(f["workflow"], f["attribute"], f["resource"]) for f in report["findings"]]
    assert len(got) == 1 and got[0][0] == "azjob-0" and got[0][1] == "schedule", got
    assert got[0][2] == "WebApp azjob-0", got  # the live app, not a Lockstep-named one
    _code, table = run("drift", "--root", str(root), "--stack", "staging", *TARGETS, "--no-record")
    assert "on WebApp azjob-0" in table
