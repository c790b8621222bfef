"""From the user's side on Azure: adopt function apps from the fake ARM, validate, preview the imports.

azjob-0 runs alone on its plan, host storage account and Application Insights component, so all four are adopted;
azjob-1 shares them with the estate's other apps, so only its function app is. The preview runs the program under
Pulumi's mocks: it proves the registrations carry the ARM IDs the record names, not that the provider's Read
accepts them (no Pulumi CLI here).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.drift.fakearm import SUBSCRIPTION
from tests.drift.support import run
from tests.importer import estate
from tests.importer.test_adopt_imports import git, lockstep

RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{estate.RG}/providers"
OWN, SHARING = f"azure:westeurope:{estate.RG}/azjob-0", f"azure:westeurope:{estate.RG}/azjob-1"
APP, PLAN = "azure-native:web:WebApp", "azure-native:web:AppServicePlan"
STORAGE, INSIGHTS = "azure-native:storage:StorageAccount", "azure-native:applicationinsights:Component"
LIVE = {  # what exists live, by workflow: (type, import ID)
    "azjob-0": {(APP, f"{RG}/Microsoft.Web/sites/azjob-0"), (PLAN, f"{RG}/Microsoft.Web/serverfarms/azjob0-plan"),
                (STORAGE, f"{RG}/Microsoft.Storage/storageAccounts/azjob0store"),
                (INSIGHTS, f"{RG}/Microsoft.Insights/components/azjob-0")},
    "azjob-1": {(APP, f"{RG}/Microsoft.Web/sites/azjob-1")},
}


def adopt(root: Path, *keys: str) -> tuple[int, dict[str, object]]:
    return lockstep("import", "adopt", *keys, "--root", str(root), "--stack", "staging", "--target", "azure",
                    "--owner", "data-platform@example.com", "--json")


def preview(root: Path) -> dict[str, object]:
    code, report = lockstep("preview", "--root", str(root), "--stack", "staging", "--format", "json")
    assert code == 0 and not report["blocked"], report
    return dict(report)


def test_adopting_function_apps_imports_the_app_and_what_it_alone_uses_and_creates_none_of_them(
        estate_repo: Path) -> None:
    root = estate_repo
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before adopting")
    git(root, "checkout", "-q", "-b", "adopt")
    estate.write_source(root / "workflows" / "functions" / "azjob_0", "az-0")
    estate.write_source(root / "workflows" / "functions" / "azjob_1", "az-1")

    code, out = adopt(root, OWN, SHARING)
    assert code == 0, out
    assert out["written"] == [f"workflows/{f}" for f in ("azjob_0.py", "azjob_0.import.json", "azjob_1.py",
                                                         "azjob_1.import.json")]
    text = (root / "workflows" / "azjob_0.import.json").read_text()
    assert estate.ACCOUNT_KEY not in text and "AccountKey" not in text  # the connection string stays out
    record = json.loads(text)["stacks"]["staging"]["azure"]
    assert record == {
        "function": {"id": f"{RG}/Microsoft.Web/sites/azjob-0", "name": "azjob-0", "group": estate.RG,
                     "live": {"siteConfig.appSettings.LOCKSTEP_SCHEDULE": "0 0 5 * * *",
                              "siteConfig.appSettings.WEBSITE_TIME_ZONE": "Europe/Berlin",
                              "siteConfig.linuxFxVersion": "Python|3.11"}},
        "plan": {"id": f"{RG}/Microsoft.Web/serverfarms/azjob0-plan", "name": "azjob0-plan", "group": estate.RG,
                 "live": {"sku.name": "EP1"}},
        "storage": {"id": f"{RG}/Microsoft.Storage/storageAccounts/azjob0store", "name": "azjob0store",
                    "group": estate.RG, "live": {"sku.name": "Standard_GRS", "kind": "StorageV2"}},
        "insights": {"id": f"{RG}/Microsoft.Insights/components/azjob-0", "name": "azjob-0", "group": estate.RG}}
    shared = json.loads((root / "workflows" / "azjob_1.import.json").read_text())["stacks"]["staging"]["azure"]
    assert set(shared) == {"function"}  # its plan, storage and component serve other apps too: not adopted
    source = (root / "workflows" / "azjob_0.py").read_text()
    assert "'entry': 'main.handler'" in source  # from function.json: scriptFile ../main.py, entryPoint handler
    assert "cron('0 5 * * *', tz='Europe/Berlin')" in source and "'runtime': 'python3.11'" in source
    assert run("validate", "--root", str(root))[0] == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt azjob-0 and azjob-1")

    report = preview(root)
    resources = report["resources"]
    assert isinstance(resources, list)
    for workflow, live in LIVE.items():
        mine = [r for r in resources if r["workflow"] == workflow and r["custom"]]
        imported = {(r["type"], r["import_id"]) for r in mine if r["change"] == "import"}
        assert imported == live, (workflow, imported)
        created = {r["type"] for r in mine if r["change"] == "create"}
        assert not created & {t for t, _ in live}, (workflow, created)  # nothing that exists live is made again
        updated = {r["type"]: r["values"] for r in mine if r["change"] == "import" and r.get("values")}
        # the app is declared as it runs; the hand-made account is geo-redundant, and Lockstep declares LRS
        assert updated == ({STORAGE: [{"path": "sku.name", "live": '"Standard_GRS"', "head": '"Standard_LRS"'}]}
                           if workflow == "azjob-0" else {}), (workflow, updated)
    app = next(r for r in resources if r.get("import_id") == f"{RG}/Microsoft.Web/sites/azjob-1")
    assert app["urn"].endswith("azjob-1-function")
    summary = report["summary"]
    assert isinstance(summary, dict) and summary["azure"]["import"] == 5
    code, text = run("preview", "--root", str(root), "--stack", "staging")
    assert f"import {APP} azjob-0-function (live {RG}/Microsoft.Web/sites/azjob-0)" in text

    # edited before the first `pulumi up`: Pulumi imports the app, then updates its schedule and runtime
    wf = root / "workflows" / "azjob_0.py"
    wf.write_text(wf.read_text().replace("cron('0 5 * * *'", "cron('0 6 * * *'").replace("python3.11", "python3.12"))
    git(root, "commit", "-q", "-am", "run azjob-0 an hour later, on Python 3.12")
    resources = preview(root)["resources"]
    assert isinstance(resources, list)
    app = next(r for r in resources if r.get("import_id") == f"{RG}/Microsoft.Web/sites/azjob-0")
    assert app["change"] == "import"
    assert app["values"] == [
        {"path": "siteConfig.appSettings.LOCKSTEP_SCHEDULE", "live": '"0 0 5 * * *"', "head": '"0 0 6 * * *"'},
        {"path": "siteConfig.linuxFxVersion", "live": '"Python|3.11"', "head": '"Python|3.12"'}]
    code, text = run("preview", "--root", str(root), "--stack", "staging")
    assert f"(live {RG}/Microsoft.Web/sites/azjob-0, then update)" in text
    assert 'siteConfig.appSettings.LOCKSTEP_SCHEDULE: "0 0 5 * * *" (live) → "0 0 6 * * *"' in text


def test_nothing_the_discovery_read_of_an_app_leaks_its_storage_key(estate_repo: Path) -> None:
    code, out = run("import", "discover", "--root", str(estate_repo), "--stack", "staging", "--target", "azure",
                    "--format", "json")
    assert code == 0 and estate.ACCOUNT_KEY not in out and "AccountKey" not in out
