"""Manual changes are captured as incidents, survive the next deploy, and end only by adopt or revert."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.loader import load_repo
from tests.drift import seed
from tests.drift.conftest import reset_moto
from tests.drift.support import deploy, drift, fields, run, scratch

WF = "berlin-payroll-sync"
BASE = "lockstep-staging-berlin-payroll-sync"


@pytest.fixture
def repo(tmp_path: Path, aws: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    root = scratch(tmp_path / "repo", [WF])
    monkeypatch.setenv("LOCKSTEP_DRIFT_DIR", str(tmp_path / "incidents"))
    _deploy(root, aws)
    return root


def _deploy(root: Path, aws: Callable[[str], Any]) -> None:
    deploy(root, "staging", {"aws": lambda wf, regs: seed.seed_aws(aws, root, wf, regs)})


def _emergency_timeout(aws: Callable[[str], Any]) -> None:
    aws("lambda").update_function_configuration(FunctionName=BASE, Timeout=600)


def test_an_emergency_fix_is_an_incident_that_a_redeploy_does_not_silently_close(
        repo: Path, aws: Callable[[str], Any], moto_url: str, tmp_path: Path) -> None:
    _emergency_timeout(aws)
    code, report = drift(repo, "--stack", "staging", "--target", "aws")
    [incident] = report["incidents"]
    assert (code, incident["state"], incident["attribute"], incident["desired"], incident["live"]) == (
        1, "open", "timeout_s", 300, 600)
    code, again = drift(repo, "--stack", "staging", "--target", "aws")
    assert [(i["id"], i["first_seen"]) for i in again["incidents"]] == [(incident["id"], incident["first_seen"])]
    reset_moto(moto_url)
    _deploy(repo, aws)  # the engine's next reconcile puts git's 300 s back
    code, after = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, after["findings"]) == (0, [])
    [overwritten] = after["incidents"]
    assert (overwritten["id"], overwritten["state"]) == (incident["id"], "overwritten")
    stored = json.loads((tmp_path / "incidents" / "staging" / f"{incident['id']}.json").read_text())
    assert [h["state"] for h in stored["history"]] == ["open", "overwritten"]


def test_adopt_writes_the_live_value_into_the_workflow_and_the_next_run_after_deploy_is_clean(
        repo: Path, aws: Callable[[str], Any], moto_url: str) -> None:
    _emergency_timeout(aws)
    _code, report = drift(repo, "--stack", "staging", "--target", "aws")
    [incident] = report["incidents"]
    code, out = run("drift", "adopt", incident["id"][:8], "--stack", "staging", "--root", str(repo))
    assert code == 0 and f"incident {incident['id']}: adopted" in out
    source = (repo / "workflows" / "berlin_payroll_sync.py").read_text()
    assert 'timeout="10m"' in source.replace("'", '"')
    assert not load_repo(repo).errors
    reset_moto(moto_url)
    _deploy(repo, aws)  # the pull request merges and the pipeline deploys it
    code, after = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, after["findings"], after["incidents"]) == (0, [], [])
    code, out = run("drift", "adopt", incident["id"], "--stack", "staging", "--root", str(repo))
    assert code == 1


def test_a_revert_is_recorded_and_closes_when_git_value_runs_again(
        repo: Path, aws: Callable[[str], Any], moto_url: str) -> None:
    _emergency_timeout(aws)
    _code, report = drift(repo, "--stack", "staging", "--target", "aws")
    [incident] = report["incidents"]
    code, out = run("drift", "revert", incident["id"], "--stack", "staging", "--root", str(repo))
    assert code == 0 and "revert recorded" in out
    code, still = drift(repo, "--stack", "staging", "--target", "aws")
    assert code == 1 and [i["state"] for i in still["incidents"]] == ["revert-requested"]
    reset_moto(moto_url)
    _deploy(repo, aws)
    code, after = drift(repo, "--stack", "staging", "--target", "aws")
    assert (code, [(i["id"], i["state"]) for i in after["incidents"]]) == (0, [(incident["id"], "reverted")])


def test_adopting_a_schedule_edit_writes_the_canonical_cron_of_the_live_expression(
        repo: Path, aws: Callable[[str], Any]) -> None:
    sch = aws("scheduler")
    live = sch.get_schedule(Name=BASE, GroupName=BASE)
    sch.update_schedule(Name=BASE, GroupName=BASE, ScheduleExpression="cron(45 9 ? * MON-FRI *)",
                        ScheduleExpressionTimezone=live["ScheduleExpressionTimezone"],
                        FlexibleTimeWindow=live["FlexibleTimeWindow"], Target=live["Target"], State="ENABLED")
    _code, report = drift(repo, "--stack", "staging", "--target", "aws")
    assert fields(report) == [("drift", WF, "aws", "schedule_expression", "cron(15 9 ? * MON-FRI *)",
                               "cron(45 9 ? * MON-FRI *)")]
    [incident] = report["incidents"]
    code, _out = run("drift", "adopt", incident["id"], "--stack", "staging", "--root", str(repo))
    source = (repo / "workflows" / "berlin_payroll_sync.py").read_text()
    assert code == 0 and "schedule=cron('45 9 * * MON-FRI', tz='Europe/Berlin')" in source


def test_with_a_ledger_remote_incidents_are_drift_entries_on_the_ledger_and_adopt_is_one_more(
        repo: Path, aws: Callable[[str], Any], tmp_path: Path) -> None:
    import subprocess

    from infra.ledger.store import GitLedger, Signing

    remote = tmp_path / "ledger.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    _emergency_timeout(aws)
    ledger = ("--ledger-remote", str(remote))
    code, report = drift(repo, "--stack", "staging", "--target", "aws", *ledger)
    [incident] = report["incidents"]
    assert (code, report["ok"], report["exit"], report["verdict"]) == (1, False, 1, "drift")
    code, again = drift(repo, "--stack", "staging", "--target", "aws", *ledger)  # a repeat sighting: no new entry
    assert [i["id"] for i in again["incidents"]] == [incident["id"]]
    code, out = run("drift", "adopt", incident["id"][:8], "--stack", "staging", "--root", str(repo), *ledger)
    assert code == 0, out
    entries = [e for e in GitLedger(str(remote), signing=Signing()).read() if e.kind == "drift"]
    # Detection, then who changed it (moto has no CloudTrail lookup: the note says why), then the adoption; the
    # second run's sighting added no fact, so no entry.
    assert [(e.stack, e.evidence["id"], e.evidence["state"]) for e in entries] == [
        ("staging", incident["id"], "open"), ("staging", incident["id"], "open"),
        ("staging", incident["id"], "adopted")]
    assert entries[0].evidence["desired"] == 300 and entries[0].evidence["live"] == 600
    assert not entries[0].evidence["changed_by_note"] and entries[1].evidence["changed_by_note"]
    assert not (tmp_path / "incidents" / "staging").exists()  # nothing went to the JSON files


def test_a_difference_under_an_open_break_glass_is_recorded_as_break_glass(
        repo: Path, aws: Callable[[str], Any], tmp_path: Path) -> None:
    import subprocess

    remote = tmp_path / "ledger.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    ledger = ("--ledger-remote", str(remote))
    code, out = run("breakglass", "open", "--stack", "staging", "--workflow", WF, "--target", "aws",
                    "--reason", "INC-7: raise the timeout during the outage", "--root", str(repo), *ledger)
    assert code == 0, out
    _emergency_timeout(aws)
    code, report = drift(repo, "--stack", "staging", "--target", "aws", *ledger)
    [incident] = report["incidents"]
    assert (code, incident["state"], incident["attribute"]) == (1, "break-glass", "timeout_s")
