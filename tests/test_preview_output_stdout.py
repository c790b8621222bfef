"""`lockstep preview --output -` writes that report to stdout, as Unix tools read `-`, and never a file named `-`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import cli
from tests.preview_support import scratch_repo


def test_output_dash_is_stdout_beside_a_report_written_to_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = scratch_repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["preview", "--stack", "staging", "--root", str(root), "--no-base", "--progress", "never",
                     "--cache-dir", str(tmp_path / "cache"), "--format", "sarif", "--output", "-",
                     "--format", "markdown", "--output", "out/comment.md"])
    out = capsys.readouterr().out
    assert code == 0, out
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["automationDetails"]["id"] == "lockstep-preview/staging/"
    assert "<!-- lockstep-preview -->" in (tmp_path / "out" / "comment.md").read_text()
    assert not (tmp_path / "-").exists() and not (root / "-").exists()


def test_only_one_report_can_go_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["preview", "--stack", "staging", "--root", str(tmp_path), "--format", "sarif", "--output", "-",
                     "--format", "markdown", "--output", "-"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and "--output - is given twice: only one report can go to stdout" in err, err
