"""`lockstep import adopt` says what is wrong with the command before reading anything, and never calls an item
"not found" when its platform could not be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra import cli

REPO = Path(__file__).resolve().parents[2]


def test_bad_adopt_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import", "adopt", "aws:x", "--stack", "staging", "--owner", "nobody", "--root", str(REPO)]) == 2
    assert "--owner: 'nobody' — is not an e-mail address" in capsys.readouterr().err
    assert cli.main(["import", "adopt", "--stack", "staging", "--owner", "a@b.co", "--root", str(REPO)]) == 2


def test_an_item_on_a_platform_that_could_not_be_read_is_not_reported_missing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in [k for k in os.environ if k.startswith(("AWS_", "AZURE_", "GOOGLE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "none.json"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["import", "adopt", "aws:lockstep/nightly", "--stack", "staging", "--owner", "a@b.co",
                     "--target", "aws", "--root", str(REPO)]) == 3
    err = capsys.readouterr().err
    assert "aws could not be read, so nothing was adopted or written" in err and "not found" not in err
