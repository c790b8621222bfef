"""`lockstep audit report` on a history with four failures of the change process: each shows on its change or
release as missing evidence and as verify's finding under its control, and the metrics count what happened."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.audit.flawed import Flawed
from tests.audit.test_report import clone, run_report


@pytest.fixture(scope="module")
def flawed_doc(flawed: Flawed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The JSON report of the flawed history."""
    tmp = tmp_path_factory.mktemp("flawed-report")
    out = tmp / "report.json"
    assert run_report(clone(flawed.history, tmp / "clone"), "--format", "json", "--output", str(out)) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def release(doc: dict[str, Any], stack: str, commit: str) -> dict[str, Any]:
    """Return the one release attempt of the commit on the stack."""
    [found] = [r for r in doc["releases"] if (r["stack"], r["commit"]) == (stack, commit)]
    return found


def test_a_self_approved_pr_is_missing_its_approval_and_found_under_cc81(flawed: Flawed,
                                                                          flawed_doc: dict[str, Any]) -> None:
    r = release(flawed_doc, "prod", flawed.self_approved)
    assert r["approvers"] == [] and "no approval by someone other than the author" in r["missing"]
    assert any("approval by someone other than the author" in f for f in r["findings"])
    cc81 = [f for f in flawed_doc["findings"] if "CC8.1" in f["controls"] and f["check"] == "approval"]
    assert [f["commit"] for f in cc81] == [flawed.self_approved]


def test_a_prod_release_without_staging_and_the_change_it_carried_unrecorded(flawed: Flawed,
                                                                            flawed_doc: dict[str, Any]) -> None:
    r = release(flawed_doc, "prod", flawed.without_staging)
    assert r["staging_verified_seq"] is None
    assert "no staging verification of this commit before prod" in r["missing"]
    [c14] = [c for c in flawed_doc["population"]["changes"] if c["commit"] == flawed.unrecorded]
    assert c14["status"] == "unrecorded"
    assert any(f["check"] == "completeness" and f["commit"] == flawed.unrecorded for f in flawed_doc["findings"])


def test_a_wave_never_verified_is_missing_evidence(flawed: Flawed, flawed_doc: dict[str, Any]) -> None:
    r = release(flawed_doc, "staging", flawed.missing_wave)
    assert "wave 2 has no passing verification" in r["missing"]
    assert any("wave" in f for f in r["findings"])


def test_the_markdown_puts_every_finding_under_its_controls(flawed: Flawed, tmp_path: Path,
                                                           flawed_doc: dict[str, Any],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(clone(flawed.history, tmp_path / "clone")) == 0
    md = capsys.readouterr().out
    assert f"## Findings ({len(flawed_doc['findings'])})" in md
    for f in flawed_doc["findings"]:
        assert f"- {f['text']}" in md
