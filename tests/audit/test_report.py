"""`lockstep audit report` on the recorded history: every change and every release with complete evidence, metrics
equal to what the fixture's known events give when computed straight from the ledger, and the formats agreeing."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.audit import report
from infra.errors import LockstepError, UsageError
from infra.ledger.entry import Entry
from tests.audit.history import History


def clone(recorded: History, dest: Path) -> Path:
    """Clone the repository the way an auditor does (main checked out, the ledger branch fetched on read)."""
    subprocess.run(["git", "clone", "-q", str(recorded.origin), str(dest)], check=True)
    return dest


def run_report(root: Path, *args: str) -> int:
    """Run `lockstep audit report ARGS` through the report's own argument parser and entry point."""
    parser = argparse.ArgumentParser(prog="lockstep audit report")
    report.add_arguments(parser)
    return report.run(parser.parse_args(["--root", str(root), *args]))


@pytest.fixture(scope="module")
def auditor(recorded: History, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The auditor's clone of the recorded repository."""
    return clone(recorded, tmp_path_factory.mktemp("auditor") / "clone")


@pytest.fixture(scope="module")
def doc(auditor: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report as JSON, written with --output."""
    out = tmp_path_factory.mktemp("report") / "report.json"
    assert run_report(auditor, "--format", "json", "--output", str(out)) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def chain(recorded: History) -> list[Entry]:
    """The ledger's entries, read by the store's own reader."""
    return recorded.ledger().read()


def test_the_population_is_every_audited_merge_to_main_and_no_other(recorded: History, doc: dict[str, Any]) -> None:
    changes = [c["commit"] for c in doc["population"]["changes"]]
    assert changes == recorded.merges
    assert recorded.docs_only not in changes
    accounted = {c["commit"]: (c["status"], c["detail"], c["released_to"]) for c in doc["population"]["changes"]}
    c3, c5 = accounted[recorded.merges[2]], accounted[recorded.merges[4]]
    assert c3[0] == "released" and c3[2] == ["staging"] and "superseded on prod" in c3[1]  # c3 never went to prod
    assert c5[0] == "rolled-back" and c5[2] == []
    assert all(c[0] == "released" for sha, c in accounted.items() if sha != recorded.merges[4])
    assert doc["findings"] == []


def test_every_release_of_the_story_is_listed_with_its_outcome(recorded: History, doc: dict[str, Any]) -> None:
    listed = [(r["stack"], r["commit"], r["outcome"]) for r in doc["releases"]]
    expected = [(r.stack, r.commit, "rolled-back" if r.outcome == "rolled-back" else "released")
                for r in recorded.releases]
    assert sorted(listed) == sorted(expected)
    assert len(listed) >= 20
    assert doc["population"]["releases"] == [r["id"] for r in doc["releases"]]


def test_every_release_carries_pr_approver_gate_per_target_and_wave_verifications(recorded: History,
                                                                                   doc: dict[str, Any]) -> None:
    for r in doc["releases"]:
        pr = recorded.prs[r["commit"]]
        where = r["id"]
        assert r["pr"] == pr["number"] and r["author"] == pr["author"], where
        assert r["approvers"] and pr["author"] not in r["approvers"], where
        assert r["links"]["pr"] == f"https://github.com/acme/lockstep/pull/{pr['number']}", where
        assert r["links"]["commit"].endswith(r["commit"]), where
        assert r["gate"]["result"] == "pass" and r["gate"]["targets"] == {"aws": "pass", "gcp": "pass"}, where
        assert [w["targets"] for w in r["waves"]] == [["aws"], ["gcp"]], where
        if r["outcome"] == "released":
            assert all(w["verified"] == "pass" and w["verified_seq"] for w in r["waves"]), where
            assert r["released_seq"], where
        if r["stack"] == "prod":
            assert r["staging_verified_seq"] and r["staging_verified_seq"] < r["seqs"][0], where
        assert r["missing"] == [], (where, r["missing"])


def test_the_rollback_the_resume_and_the_break_glass_are_shown_on_their_release(recorded: History,
                                                                                doc: dict[str, Any]) -> None:
    by = {(r["stack"], r["commit"]): r for r in doc["releases"]}
    c = recorded.merges
    failed = by[("staging", c[4])]
    assert failed["outcome"] == "rolled-back" and failed["bad_release_seq"]
    assert failed["rollback"]["to_commit"] == c[3] and failed["rollback"]["result"] == "ok"
    assert failed["rollback"]["waves"] and all(w["verified"] == "pass" for w in failed["rollback"]["waves"])
    assert [w["verified"] for w in failed["waves"]][:1] == ["pass"] and failed["waves"][1]["applied"] == "failed"
    resumed = by[("prod", c[5])]
    assert resumed["resumes"] and resumed["waves"][0]["resumed"] in ("re-apply", "verified-live")
    [glass] = doc["break_glass"]
    assert (glass["stack"], glass["workflow"], glass["target"]) == ("staging", "billing-export", "gcp")
    assert glass["opened_seq"] == recorded.glass["opened_seq"] and glass["closed_seq"] == recorded.glass["closed_seq"]
    assert glass["resolution"] == "revert" and "reviewed by dana" in glass["review"]
    assert glass["expires"] == recorded.glass["expires"]
    under = by[("staging", c[8])]
    assert under["waves"][1]["break_glass"] == ["billing-export/gcp"]


def test_drift_incidents_show_detection_and_what_resolved_them(recorded: History, doc: dict[str, Any]) -> None:
    incidents = {i["id"]: i for i in doc["drift_incidents"]}
    adopted, reverted = incidents[recorded.incidents["adopted"]], incidents[recorded.incidents["reverted"]]
    assert (adopted["stack"], adopted["target"], adopted["resolution"]) == ("staging", "gcp", "adopted")
    assert adopted["adopted_by"] == recorded.merges[6]                  # c7 carried the adopted timeout
    assert (reverted["stack"], reverted["target"], reverted["resolution"]) == ("prod", "aws", "reverted")
    assert reverted["reverted_by"] == recorded.merges[7]                # c8's prod release put git's value back


def _at(e: Entry) -> float:
    return report.instant(e.at).timestamp()


def test_metrics_equal_the_values_computed_straight_from_the_ledger(recorded: History, doc: dict[str, Any],
                                                                    chain: list[Entry]) -> None:
    m = doc["metrics"]
    # Drift: the two incidents of the story, each from its first entry to its adopted/reverted entry.
    drift = [e for e in chain if e.kind == "drift"]
    ids = {e.evidence["id"] for e in drift}
    assert m["drift_incidents"] == len(ids) == 2 and m["drift_open"] == 0
    reconcile = []
    detect = []
    for iid in ids:
        states = [e for e in drift if e.evidence["id"] == iid]
        first = report.instant(states[0].evidence["first_seen"]).timestamp()
        end = next(e for e in states if e.evidence["state"] in ("adopted", "reverted"))
        reconcile.append(report.instant(end.evidence["last_seen"]).timestamp() - first)
        stack, target = states[0].stack, states[0].evidence["target"]
        verified = [_at(e) for e in chain if e.kind == "verified" and e.stack == stack and e.seq < states[0].seq
                    and e.evidence.get("result") == "pass" and target in e.evidence.get("targets", ())
                    and "wave" in e.evidence]
        detect.append(first - max(verified))
    assert m["time_to_reconcile"]["median_s"] == statistics.median(reconcile)
    assert m["time_to_reconcile"]["max_s"] == max(reconcile)
    assert m["time_to_detect"]["median_s"] == statistics.median(detect) and m["time_to_detect"]["max_s"] == max(detect)
    # Change failure: the story's rolled-back releases over its releases, per stack.
    for stack in ("staging", "prod"):
        mine = [r for r in recorded.releases if r.stack == stack]
        assert m["change_failure_rate"][stack] == {
            "numerator": sum(r.outcome == "rolled-back" for r in mine), "denominator": len(mine),
            "value": sum(r.outcome == "rolled-back" for r in mine) / len(mine)}
    assert m["change_failure_rate"]["staging"]["numerator"] == 1
    # Emergency share: the one break-glass window over every release plus that window.
    assert m["emergency_change_share"]["numerator"] == 1
    assert m["emergency_change_share"]["denominator"] == len(recorded.releases) + 1
    # Lead time: prod's release-wide verification minus the merge time the PR payload recorded.
    leads = [_at(e) - report.instant(recorded.prs[e.commit]["merged_at"]).timestamp() for e in chain
             if e.kind == "verified" and e.stack == "prod" and e.evidence.get("scope") == "release"]
    assert len(leads) == sum(r.stack == "prod" for r in recorded.releases)
    assert m["lead_time_merge_to_prod"]["median_s"] == statistics.median(leads)
    assert m["lead_time_merge_to_prod"]["max_s"] == max(leads)


def test_markdown_and_json_agree(auditor: Path, doc: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(auditor) == 0
    md = capsys.readouterr().out
    headings = [line.removeprefix("### ").split(":")[0] for line in md.splitlines()
                if line.startswith("### ") and "@" in line]
    assert headings == [r["id"] for r in doc["releases"]]
    for c in doc["population"]["changes"]:
        assert c["commit"][:12] in md and c["links"]["pr"] in md
    for r in doc["releases"]:
        for w in r["waves"]:
            assert f"intent #{w['intent_seq']}" in md
    m = doc["metrics"]
    cfr = m["change_failure_rate"]["all"]
    assert f"| Change-failure rate (all) | {cfr['numerator']} / {cfr['denominator']} " in md
    assert f"| Drift incidents | {m['drift_incidents']} ({m['drift_open']} open) |" in md
    for i in doc["drift_incidents"]:
        assert f"| {i['id']} | {i['stack']} | {i['workflow']} | {i['target']} |" in md
    for control in ("## CC8.1", "## CC7.1", "## CC7.2", "## A.8.32"):
        assert control in md


def test_since_a_commit_keeps_only_what_came_after_it(recorded: History, auditor: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(auditor, "--format", "json", "--since", recorded.merges[8]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["commit"] for c in doc["population"]["changes"]] == recorded.merges[9:]
    assert {r["commit"] for r in doc["releases"]} == set(recorded.merges[9:])
    assert doc["drift_incidents"] == []  # both were detected before c9 landed
    assert [g["opened_seq"] for g in doc["break_glass"]] == [recorded.glass["opened_seq"]]  # opened after c9 landed


def test_since_a_date_and_bad_input_are_clear(auditor: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(auditor, "--format", "json", "--since", "2030-01-01") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["population"]["changes"] == [] and doc["releases"] == []
    with pytest.raises(UsageError, match=r"--since 'no-such-rev': is neither a commit of this clone nor a date"):
        run_report(auditor, "--since", "no-such-rev")
    with pytest.raises(LockstepError, match=r"cannot fetch lockstep/ledger from 'upstream'"):
        run_report(auditor, "--ledger-remote", "upstream")
    with pytest.raises(UsageError, match=r"--output .*: cannot be written"):
        run_report(auditor, "--output", str(auditor / "no" / "such" / "dir" / "r.md"))


def test_a_rewritten_ledger_is_reported_with_the_chain_finding_on_top(recorded: History, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    copy = recorded.copy(tmp_path)
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", "-b", "lockstep/ledger", str(copy.origin), str(work)], check=True)
    path = work / "00000005.json"
    path.write_text(path.read_text().replace('"result":"pass"', '"result":"PASS"', 1))
    subprocess.run(["git", "-C", str(work), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "x"],
                   check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:lockstep/ledger"], check=True)
    root = clone(copy, tmp_path / "auditor")
    assert run_report(root) == 0
    md = capsys.readouterr().out
    head = md[:md.index("## Metrics")]
    assert "## Findings (" in head and "### CC8.1" in head and "rewrites 00000005.json" in head


def test_the_command_line_writes_each_format(recorded: History, auditor: Path, doc: dict[str, Any],
                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra import cli

    for fmt in ("json", "markdown", "html"):
        out = tmp_path / f"report.{fmt}"
        assert cli.main(["audit", "report", "--root", str(auditor), "--format", fmt, "--output", str(out)]) == 0
        said = f"{fmt} written to {out}: {len(recorded.merges)} change(s), {len(doc['releases'])} release attempt(s)"
        assert said in capsys.readouterr().err
    assert json.loads((tmp_path / "report.json").read_text())["releases"] == doc["releases"]
    assert cli.main(["audit", "report", "--root", str(auditor), "--since", "not-a-rev"]) == 2
    err = capsys.readouterr().err
    assert "--since 'not-a-rev'" in err and "Traceback" not in err


def test_output_dash_is_stdout_as_unix_tools_read_it(auditor: Path, doc: dict[str, Any], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["audit", "report", "--root", str(auditor), "--format", "json", "--output", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["releases"] == doc["releases"] and "written to" not in captured.err
    assert not (tmp_path / "-").exists() and not (auditor / "-").exists()
