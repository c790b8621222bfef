"""From the user's side: discover the seeded estate, adopt two schedules into a git repo, preview the branch.

The preview runs the program under Pulumi's mocks (no Pulumi CLI here): what it proves is that the registrations
carry the import IDs the record names, so a real `pulumi up` would adopt those live resources, not create copies.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.drift.support import run
from tests.importer import estate

NIGHTLY = "aws:eu-central-1:reports/nightly-report"
WEEKLY = "gcp:acme-lockstep-staging/europe-west1:weekly-digest-v2"
COPY = "gcp:acme-lockstep-staging/europe-west1:nightly-report-copy"
WHERE = f"projects/{estate.PROJECT}/locations/{estate.GCP_REGION}"
TARGETS = ("--target", "aws", "--target", "gcp", "--target", "azure")
LIVE = {  # what exists live, by workflow: (type, import ID)
    "nightly-report": {("aws:lambda/function:Function", "nightly-report"),
                       ("aws:scheduler/schedule:Schedule", "reports/nightly-report"),
                       ("aws:cloudwatch/logGroup:LogGroup", "/aws/lambda/nightly-report")},
    "weekly-digest-v2": {("gcp:cloudscheduler/job:Job", f"{WHERE}/jobs/weekly-digest-v2"),
                         ("gcp:cloudfunctionsv2/function:Function", f"{WHERE}/functions/digest-fn")},
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True).stdout


def lockstep(*argv: str) -> tuple[int, Any]:
    code, out = run(*argv)
    return code, json.loads(out)


def adopt(root: Path, *keys: str) -> tuple[int, Any]:
    return lockstep("import", "adopt", *keys, "--root", str(root), "--stack", "staging", *TARGETS,
                    "--owner", "data-platform@example.com", "--json")


def test_adopt_records_the_live_ids_and_the_preview_imports_them_instead_of_creating(estate_repo: Path) -> None:
    root = estate_repo
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before adopting")
    git(root, "checkout", "-q", "-b", "adopt")
    code, found = lockstep("import", "discover", "--root", str(root), "--stack", "staging", *TARGETS, "--json")
    assert code == 0 and {NIGHTLY, WEEKLY} <= {i["key"] for i in found["items"]}
    estate.write_source(root / "workflows" / "functions" / "nightly_report", "report")
    estate.write_source(root / "workflows" / "functions" / "weekly_digest_v2", "digest")

    code, out = adopt(root, NIGHTLY, WEEKLY)
    assert code == 0, out
    assert out["written"] == [f"workflows/{f}" for f in ("nightly_report.py", "nightly_report.import.json",
                                                         "weekly_digest_v2.py", "weekly_digest_v2.import.json")]
    record = json.loads((root / "workflows" / "nightly_report.import.json").read_text())
    assert record["workflow"] == "nightly-report" and "not secrets" in record["note"]
    assert record["stacks"] == {"staging": {"aws": {  # the group 'reports' is shared: it is not adopted
        "function": {"id": "nightly-report", "name": "nightly-report",
                     "live": {"runtime": "python3.11", "memorySize": 256, "timeout": 120}},
        "logs": {"id": "/aws/lambda/nightly-report", "name": "/aws/lambda/nightly-report"},
        "schedule": {"id": "reports/nightly-report", "name": "nightly-report", "group": "reports",
                     "live": {"scheduleExpression": "cron(0 9 * * ? *)",
                              "scheduleExpressionTimezone": "Europe/Berlin"}}}}}
    assert run("validate", "--root", str(root))[0] == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt the nightly report and the weekly digest")

    code, report = lockstep("preview", "--root", str(root), "--stack", "staging", "--format", "json")
    assert code == 0 and not report["blocked"], report["violations"]
    for workflow, live in LIVE.items():
        mine = [r for r in report["resources"] if r["workflow"] == workflow and r["custom"]]
        imported = {(r["type"], r["import_id"]) for r in mine if r["change"] == "import"}
        assert imported == live, (workflow, imported)
        created = {r["type"] for r in mine if r["change"] == "create"}
        assert not created & {t for t, _ in live}, (workflow, created)  # nothing that exists live is created again
        assert not [r for r in mine if r["change"] == "import" and r.get("values")]  # declared as it runs live
    schedule = next(r for r in report["resources"] if r.get("import_id") == "reports/nightly-report")
    assert schedule["urn"].endswith("nightly-report-schedule")
    assert not [r for r in report["resources"] if r["workflow"] == "nightly-report"
                and r["type"] == "aws:scheduler/scheduleGroup:ScheduleGroup"]
    assert report["summary"]["aws"]["import"] == 3 and report["summary"]["gcp"]["import"] == 2
    code, text = run("preview", "--root", str(root), "--stack", "staging")
    assert "import aws:scheduler/schedule:Schedule nightly-report-schedule (live reports/nightly-report)" in text

    # changed before the first `pulumi up`: Pulumi imports the schedule, then updates it; the preview says so
    wf = root / "workflows" / "nightly_report.py"
    wf.write_text(wf.read_text().replace("cron('0 9 * * *'", "cron('0 10 * * *'"))
    git(root, "commit", "-q", "-am", "run the nightly report an hour later")
    code, report = lockstep("preview", "--root", str(root), "--stack", "staging", "--format", "json")
    schedule = next(r for r in report["resources"] if r.get("import_id") == "reports/nightly-report")
    assert (code, schedule["change"]) == (0, "import")
    assert schedule["values"] == [{"path": "scheduleExpression", "live": '"cron(0 9 * * ? *)"',
                                   "head": '"cron(0 10 * * ? *)"'}]
    code, text = run("preview", "--root", str(root), "--stack", "staging")
    assert "(live reports/nightly-report, then update)" in text
    assert 'scheduleExpression: "cron(0 9 * * ? *)" (live) → "cron(0 10 * * ? *)"' in text


def test_once_imported_the_record_stops_mattering_but_deleting_it_would_rename_and_replace(
        estate_repo: Path) -> None:
    root = estate_repo
    estate.write_source(root / "workflows" / "functions" / "nightly_report", "report")
    assert adopt(root, NIGHTLY)[0] == 0
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopted (and, say, `pulumi up` imported it)")
    git(root, "checkout", "-q", "-b", "later")
    wf = root / "workflows" / "nightly_report.py"
    wf.write_text(wf.read_text().replace("timeout='2m'", "timeout='3m'"))
    git(root, "commit", "-q", "-am", "a later change, the record kept")
    changes = _changes(root)
    assert changes["nightly-report-function"] == ("update", "nightly-report")  # no second import
    assert "import" not in {op for op, _ in changes.values()}

    git(root, "checkout", "-q", "-b", "drop-record", "main")
    (root / "workflows" / "nightly_report.import.json").unlink()
    git(root, "commit", "-q", "-am", "drop the record")
    changes = _changes(root)
    for name in ("nightly-report-function", "nightly-report-schedule", "nightly-report-logs"):
        assert changes[name][0] == "replace", (name, changes[name])


def _changes(root: Path) -> dict[str, tuple[str, str]]:
    code, report = lockstep("preview", "--root", str(root), "--stack", "staging", "--format", "json")
    assert code == 0, report
    return {r["name"]: (r["change"], r.get("import_id", "")) for r in report["resources"]
            if r["workflow"] == "nightly-report" and r["custom"]}


def test_adopt_reports_collisions_and_overlaps_and_overwrites_nothing(estate_repo: Path) -> None:
    root = estate_repo
    estate.write_source(root / "workflows" / "functions" / "nightly_report", "report")
    assert adopt(root, NIGHTLY)[0] == 0
    before = {p: p.read_bytes() for p in (root / "workflows").glob("*.*")}
    code, out = adopt(root, NIGHTLY)  # the same name again: the file and its record exist
    assert code == 1 and not out["ok"]
    message = out["errors"][0]["message"]
    assert "workflow 'nightly-report' already exists (workflows/nightly_report.py)" in message
    assert "nothing written" in message
    code, out = lockstep("import", "adopt", COPY, "--name", f"{COPY}=report-copy", "--root", str(root), "--stack",
                         "staging", *TARGETS, "--owner", "data-platform@example.com", "--json")
    assert code == 1 and "overlaps workflow 'nightly-report'" in out["errors"][0]["message"]
    assert {p: p.read_bytes() for p in (root / "workflows").glob("*.*")} == before


def test_a_broken_import_record_is_reported_with_its_file_line_and_field(estate_repo: Path) -> None:
    root = estate_repo
    estate.write_source(root / "workflows" / "functions" / "nightly_report", "report")
    assert adopt(root, NIGHTLY)[0] == 0
    path = root / "workflows" / "nightly_report.import.json"
    record = json.loads(path.read_text())
    record["stacks"]["staging"]["aws"]["schedule"].pop("group")
    record["stacks"]["staging"]["aws"]["queue"] = {"id": "q"}
    record["stacks"]["qa"] = {}
    path.write_text(json.dumps(record, indent=2))
    code, out = lockstep("validate", "--root", str(root), "--json")
    assert code == 1
    got = {(e["path"], e["field"]) for e in out["errors"]}
    rel = "workflows/nightly_report.import.json"
    assert got == {(rel, "import.stacks.staging.aws.schedule.group"), (rel, "import.stacks.staging.aws.queue"),
                   (rel, "import.stacks.qa")}
    assert all(e["line"] > 1 for e in out["errors"])
