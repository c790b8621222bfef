"""`lockstep schedule translate | fires` through the argparse surface that the lead wires into infra/cli.py."""

from __future__ import annotations

import argparse
import json

import pytest

from infra.cli_schedule import register
from infra.errors import UsageError


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="lockstep")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fires_prints_utc_instants_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["schedule", "fires", "--platform", "aws-scheduler", "--expression", "cron(0 10 * * ? *)",
                         "--tz", "America/New_York", "--after", "2026-03-07T00:00:00Z", "--count", "2", "--json"],
                        capsys)
    assert code == 0
    assert json.loads(out) == {"platform": "aws-scheduler", "fires": ["2026-03-07T15:00:00Z", "2026-03-08T14:00:00Z"]}


def test_fires_exits_non_zero_with_the_platform_reason(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="does not support L"):
        _run(["schedule", "fires", "--platform", "gcp-scheduler", "--expression", "0 9 L * *",
              "--after", "2026-03-01T00:00:00Z", "--count", "1", "--json"], capsys)


def test_translate_json_lists_every_platform_or_its_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["schedule", "translate", "--cron", "0 2 * * MON#1", "--tz", "Europe/Berlin", "--json"],
                        capsys)
    targets = json.loads(out)["targets"]
    assert code == 0 and targets["aws"]["expression"] == "cron(0 2 ? * MON#1 *)"
    assert targets["gcp"]["refused"] is True and "'#'" in targets["gcp"]["reason"]
