"""Report formats: markdown fits one PR comment, SARIF points at workflow lines, JSON lists every resource,
no format ever shows a secret, and the CLI exits non-zero when the gate blocks."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from infra import cli, cli_preview
from infra.model import StackConfig, Workflow
from infra.preflight import report_json, report_markdown, report_sarif, report_table
from infra.preflight.plan import Change, Resource
from infra.preflight.run import Preview, Violation, preview
from infra.stamps import stamps
from tests.preview_support import REPO, scratch_repo

SECRET = "hunter2-never-print-me"


def big_preview(n: int) -> Preview:
    res = Resource("urn:pulumi:staging::lockstep::aws:sqs/queue:Queue::q", "aws:sqs/queue:Queue", "q", True, "aws",
                   "wf", "")
    violations = [Violation("gcp", f"wf-{i}", "schedule-equivalence", "mandatory", True, "x" * 200,
                            f"workflows/wf_{i}.py", 10, "") for i in range(n)]
    return Preview("staging", ("aws", "gcp"), None, [Change("create", res)] * n, violations)


def test_markdown_fits_one_pr_comment_and_says_what_it_left_out() -> None:
    text = report_markdown.render(big_preview(2000))
    assert len(text) < 65_000
    assert text.startswith(report_markdown.MARKER) and "BLOCKED" in text
    assert "more line(s) left out to fit one comment" in text


def test_sarif_points_every_violation_at_its_workflow_file_and_line() -> None:
    doc = json.loads(report_sarif.render(big_preview(3)))
    results = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == [
        "workflows/wf_0.py", "workflows/wf_1.py", "workflows/wf_2.py"]
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results} == {10}
    assert {r["level"] for r in results} == {"error"} and doc["version"] == "2.1.0"


def leaky_builder(wf: Workflow, stack: StackConfig, root: Path, commit: str) -> None:
    """Build a stamped queue whose policy input is a secret, for the no-secret-in-reports test."""
    aws.sqs.Queue(f"{wf.name}-q", tags=stamps(wf, "aws", commit), policy=pulumi.Output.secret(SECRET))


def test_no_report_format_shows_a_secret_input(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    result = preview(root, "staging", compare=False, builder=leaky_builder)
    rendered = [f(result) for f in (report_table.render, report_markdown.render, report_json.render,
                                    report_sarif.render)]
    assert all(SECRET not in text for text in rendered)
    assert any(r["urn"].endswith("::inventory-snapshot-q") for r in json.loads(rendered[2])["resources"])


def test_json_lists_every_resource_with_urn_type_and_change(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    doc = json.loads(report_json.render(preview(root, "staging", compare=False, builder=leaky_builder)))
    assert [(r["type"], r["change"]) for r in doc["resources"]] == [("aws:sqs/queue:Queue", "create")] * 2
    assert all(r["urn"].startswith("urn:pulumi:staging::lockstep::") for r in doc["resources"])


def run_cli(*argv: str) -> int:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    if "preview" not in sub.choices:  # type: ignore[attr-defined]
        cli_preview.register(sub)
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_the_readme_command_prints_every_targets_plan_and_the_verdict(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path) -> None:
    code = run_cli("preview", "--stack", "staging", "--root", str(REPO), "--cache-dir", str(tmp_path))
    out = capsys.readouterr().out
    for target in ("aws", "azure", "gcp", "onprem"):
        assert f"\n{target:<8} " in out
    assert ("PASS: every policy passes" in out and code == 0) or ("BLOCKED:" in out and code == 1)


def test_the_cli_exits_one_when_a_mandatory_rule_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = scratch_repo(tmp_path / "repo")
    workflow = root / "workflows" / "quarter_hour_queue_drain.py"
    workflow.write_text(workflow.read_text().replace('cron("*/15 * * * *"', 'cron("0 6 * * MON#1"'))
    assert run_cli("preview", "--stack", "staging", "--root", str(root), "--cache-dir", str(tmp_path / "c"),
                   "--format", "markdown") == 1
    assert "workflows/quarter_hour_queue_drain.py:10" in capsys.readouterr().out
