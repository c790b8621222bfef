"""The audit finds failures of the change process, not only of the record: a self-approved PR, a prod release with
no staging verification, a wave never verified, and a commit on main that reached prod with no entry of its own."""

from __future__ import annotations

from pathlib import Path

from infra.audit.findings import Finding
from tests.audit.flawed import Flawed
from tests.audit.tamper import audit


def findings(flawed: Flawed, tmp_path: Path) -> list[Finding]:
    """Return every finding on the flawed history (chain intact, signatures checked)."""
    v = audit(flawed.history, tmp_path, trust=True)
    assert [f for f in v.findings if f.check in ("chain", "signature", "backdated")] == []
    return v.findings


def test_exactly_the_four_planted_failures_are_found(flawed: Flawed, tmp_path: Path) -> None:
    found = findings(flawed, tmp_path)
    assert {(f.check, f.commit) for f in found} == {
        ("approval", flawed.self_approved), ("completeness", flawed.unrecorded),
        ("staging", flawed.without_staging), ("waves", flawed.missing_wave)}, "\n".join(f.render() for f in found)


def test_a_self_approved_pr_is_found_on_the_prod_release(flawed: Flawed, tmp_path: Path) -> None:
    [f] = [f for f in findings(flawed, tmp_path) if f.check == "approval"]
    assert (f.stack, f.kind, f.commit) == ("prod", "gate", flawed.self_approved)
    assert "PR #113 by" in f.message and "no approval by anyone other than its author" in f.message
    assert f.render().startswith(f"entry {f.seq} (prod, gate), commit {flawed.self_approved[:12]}: CC8.1 / A.8.32 "
                                 "approval by someone other than the author")


def test_a_prod_release_without_a_verified_staging_release_is_found(flawed: Flawed, tmp_path: Path) -> None:
    [f] = [f for f in findings(flawed, tmp_path) if f.check == "staging"]
    assert (f.stack, f.kind, f.commit) == ("prod", "intent", flawed.without_staging)
    assert "no verified staging release of the same commit before it" in f.message
    assert f.controls == ("CC8.1", "A.8.32")


def test_a_release_with_a_wave_never_verified_is_found(flawed: Flawed, tmp_path: Path) -> None:
    [f] = [f for f in findings(flawed, tmp_path) if f.check == "waves"]
    assert (f.stack, f.kind, f.commit) == ("staging", "verified", flawed.missing_wave)
    assert "wave 2 [gcp] has no passing verification after its apply (it was never verified)" in f.message
    assert f.controls == ("CC8.1", "CC7.1")


def test_a_commit_on_main_deployed_without_an_entry_is_found(flawed: Flawed, tmp_path: Path) -> None:
    [f] = [f for f in findings(flawed, tmp_path) if f.check == "completeness"]
    assert f.seq is None and f.commit == flawed.unrecorded
    assert f"reached prod in the release of {flawed.without_staging[:12]}" in f.message
    assert "workflows/billing.py" in f.message and f.render().startswith(f"commit {flawed.unrecorded[:12]}: CC8.1")
