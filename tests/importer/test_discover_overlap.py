"""`lockstep import discover` against moto, drongo and the fake ARM, seeded with a messy estate."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.drift.support import run
from tests.importer import estate

UNREACHABLE = "http://127.0.0.1:9"


def discover(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out = run("import", "discover", "--root", str(root), "--stack", "staging", "--format", "json",
                    "--target", "aws", "--target", "gcp", "--target", "azure", *args)
    return code, json.loads(out)


def test_discover_lists_every_schedule_and_the_overlap_is_exactly_the_planted_groups(estate_repo: Path) -> None:
    code, report = discover(estate_repo)
    assert (code, report["errors"]) == (0, [])
    items = {i["key"]: i for i in report["items"]}
    planted = set().union(*estate.EXACT, *estate.NEAR, estate.NOT_WORKFLOWS)
    assert planted <= set(items), sorted(planted - set(items))
    unique = estate.UNIQUE_AWS + estate.UNIQUE_GCP + estate.UNIQUE_AZURE + estate.INLINE_AZURE
    assert len(items) == len(planted) + unique
    assert items[f"azure:westeurope:{estate.RG}/inlinejob"]["schedule"] == {  # from the function.json binding
        "kind": "cron", "expression": "45 23 * * *", "timezone": "UTC"}
    for key, why in estate.NOT_WORKFLOWS.items():
        assert why in items[key]["reason"], (key, items[key]["reason"])
    groups = {(g["kind"], frozenset(g["members"])) for g in report["groups"]}
    assert groups == {("exact", frozenset(g)) for g in estate.EXACT} | {("near", frozenset(g)) for g in estate.NEAR}
    stamped = next(g for g in report["groups"] if "aws:us-east-1:" in g["keep"] or "etl" in g["members"][0])
    assert stamped["keep"].startswith("aws:us-east-1:"), stamped  # the one Lockstep already manages is kept
    total = len(items) - len(estate.NOT_WORKFLOWS)
    overlapping = sum(len(g) for g in estate.EXACT + estate.NEAR)
    assert report["overlap"] == {"total": total, "overlapping": overlapping, "share": round(overlapping / total, 4),
                                 "retirable": sum(len(g) - 1 for g in estate.EXACT)}
    # each schedule is normalized in its own zone; the equivalence engine found them equal across zones
    assert items["aws:eu-central-1:reports/nightly-report"]["schedule"] == {
        "kind": "cron", "expression": "0 9 * * *", "timezone": "Europe/Berlin"}
    assert items["gcp:acme-lockstep-staging/europe-west1:nightly-report-copy"]["schedule"] == {
        "kind": "cron", "expression": "0 8 * * *", "timezone": "Europe/London"}
    assert items["aws:eu-central-1:queues/drain"]["schedule"] == {
        "kind": "rate", "expression": "15 minutes", "timezone": "UTC"}


def test_the_table_prints_the_share_and_which_to_keep_and_an_unreadable_target_is_reported(
        estate_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("import", "discover", "--root", str(estate_repo), "--stack", "staging", "--target", "aws",
                    "--target", "gcp", "--target", "azure")
    assert code == 0
    assert "overlap: 13 of 32 workflows (41%) duplicate another" in out
    assert "keep aws:us-east-1:lockstep-staging-hourly-etl/lockstep-staging-hourly-etl (stamped by Lockstep" in out
    monkeypatch.setenv("LOCKSTEP_AZURE_ENDPOINT_URL", UNREACHABLE)
    code, report = discover(estate_repo)
    assert code == 3
    assert report["errors"] and report["errors"][0].startswith("azure:")
    assert any(i["target"] == "aws" for i in report["items"])


def adopt(root: Path, *keys: str, name: str = "") -> tuple[int, str, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code, out = run("import", "adopt", *keys, "--root", str(root), "--stack", "staging", "--target", "aws",
                        "--target", "gcp", "--target", "azure", "--owner", "data-platform@example.com",
                        *(["--name", name] if name else []))
    return code, out, err.getvalue()


def test_adopt_writes_workflows_that_validate_to_what_runs_and_refuses_collisions_and_overlaps(
        estate_repo: Path) -> None:
    nightly = "aws:eu-central-1:reports/nightly-report"
    copy = "gcp:acme-lockstep-staging/europe-west1:nightly-report-copy"
    weekly = "gcp:acme-lockstep-staging/europe-west1:weekly-digest-v2"
    fns = estate_repo / "workflows" / "functions"
    estate.write_source(fns / "nightly_report", "report")
    estate.write_source(fns / "weekly_digest_v2", "digest")
    code, _out, err = adopt(estate_repo, nightly, copy, "aws:eu-central-1:default/to-a-queue",
                            "gcp:acme-lockstep-staging/europe-west1:gjob-1", name=f"{copy}=nightly-ledger-export")
    assert code == 1 and "nothing written" in err
    assert "is not a Lambda function" in err
    assert "workflow 'nightly-ledger-export' already exists" in err
    assert "put the function's code in workflows/functions/gjob_1/" in err
    assert f"are exact duplicates of each other: adopt only {nightly}" in err
    assert not (estate_repo / "workflows" / "nightly_report.py").exists()

    code, out, err = adopt(estate_repo, nightly, weekly)
    assert (code, err) == (0, ""), err
    assert out.splitlines()[:4] == [f"wrote workflows/{f}" for f in (
        "nightly_report.py", "nightly_report.import.json", "weekly_digest_v2.py", "weekly_digest_v2.import.json")]
    text = (estate_repo / "workflows" / "nightly_report.py").read_text()
    assert 'schedule=cron(\'0 9 * * *\', tz=\'Europe/Berlin\')' in text and "'memory_mb': 256" in text
    code, out = run("validate", "--root", str(estate_repo))
    assert code == 0 and "nightly-report" in out and "weekly-digest-v2" in out

    # the GCP copy now overlaps the declared workflow: refused, whatever its name
    code, _out, err = adopt(estate_repo, copy, name=f"{copy}=report-copy")
    assert code == 1 and "overlaps workflow 'nightly-report'" in err
