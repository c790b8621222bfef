"""A drift run that cannot be made says why in the format asked for (and in the job summary), and exits 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra import cli
from tests.drift.support import scratch

WF = "berlin-payroll-sync"


def _parse(fmt: str, out: str) -> str:
    """Return the reason the report in `fmt` gives (and check the document is well formed)."""
    if fmt == "json":
        doc = json.loads(out)
        assert (doc["ok"], doc["exit"], doc["verdict"], doc["findings"], doc["incidents"]) == (
            False, 2, "cannot-run", [], []), doc
        return "\n".join(e["message"] for e in doc["errors"])
    if fmt == "sarif":
        [run] = json.loads(out)["runs"]
        [invocation] = run["invocations"]
        assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 2
        assert {r["ruleId"] for r in run["results"]} == {"drift/cannot-run"} and run["results"][0]["level"] == "error"
        return "\n".join(r["message"]["text"] for r in run["results"])
    if fmt == "markdown":
        assert out.startswith("## Lockstep drift: COULD NOT RUN (")
        return out
    assert out == "", "a table goes to the terminal: the reason is on stderr"
    return ""


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "sarif"])
def test_an_unreachable_ledger_remote_is_reported_in_every_format_with_exit_2_before_any_platform_is_read(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    root = scratch(tmp_path / "repo", [WF])
    read: list[str] = []

    def collect(_decl: object) -> None:
        read.append("platforms")

    monkeypatch.setattr("infra.drift.collect.collect", collect)
    summary = tmp_path / "out" / "summary.md"
    missing = tmp_path / "nonexistent"
    code = cli.main(["drift", "--stack", "staging", "--root", str(root), "--ledger-remote", str(missing),
                     "--format", fmt, "--summary", str(summary)])
    captured = capsys.readouterr()
    reason = f"--ledger-remote {missing}: the ledger cannot be read"
    assert code == 2 and read == [], (code, read)
    assert fmt == "table" or reason in _parse(fmt, captured.out), captured.out
    _parse(fmt, captured.out)
    assert f"lockstep: {reason}" in captured.err and "does not appear to be a git repository" in captured.err
    assert "drop --ledger-remote" in captured.err and "Traceback" not in captured.err
    said = summary.read_text()
    assert said.startswith("## Lockstep drift: COULD NOT RUN (staging)") and reason in said


@pytest.mark.parametrize("args,reason", [
    (["--stack", "nosuch"], "stack 'nosuch': there is no Pulumi.nosuch.yaml"),
    (["--stack", "staging", "--workflow", "nosuch"], "workflows:1: --workflow: 'nosuch' — is not a workflow"),
    (["--stack", "staging", "--ledger-remote", "upstream"], "'upstream' — is not a remote of"),
])
def test_a_stack_workflow_or_remote_that_does_not_exist_is_a_failure_report_not_silence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], reason: str) -> None:
    root = scratch(tmp_path / "repo", [WF])
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for fmt in ("sarif", "json", "markdown"):
        assert cli.main(["drift", "--root", str(root), "--format", fmt, *args]) == 2
        out = capsys.readouterr().out
        assert reason in _parse(fmt, out), out


def test_the_drift_workflow_reads_a_failure_report_without_breaking(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """drift.yml's issue step iterates `incidents`: the failure document has one (empty), and exit 2 fails the job."""
    import yaml

    doc = yaml.safe_load((Path(__file__).resolve().parents[2] / ".github/workflows/drift.yml").read_text())
    [fail] = [s for s in doc["jobs"]["drift"]["steps"] if "Fail on drift" in s.get("name", "")]
    assert fail["if"] == "steps.drift.outputs.status != '0'" and "2: could not run" in fail["run"]
    root = scratch(tmp_path / "repo", [WF])
    assert cli.main(["drift", "--stack", "staging", "--root", str(root), "--ledger-remote",
                     str(tmp_path / "nope"), "--format", "json"]) == 2
    assert json.loads(capsys.readouterr().out)["incidents"] == []
