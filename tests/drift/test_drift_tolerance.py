"""Per-field tolerance: declared once, overridable per stack, never for fields that decide when or what runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.drift.tolerance import Tolerance, for_stack
from infra.errors import SpecInvalid
from tests.drift.support import run, scratch


def _stack(root: Path, extra: str) -> None:
    path = root / "Pulumi.staging.yaml"
    path.write_text(path.read_text() + extra)


def test_a_stack_can_tolerate_notify_and_widen_the_memory_warning(tmp_path: Path) -> None:
    root = scratch(tmp_path / "repo", ["berlin-payroll-sync"])
    _stack(root, "  lockstep:drift:\n    tolerate: [notify]\n    warn: {memory: 50}\n")
    tol = for_stack(root, "staging")
    assert tol.level("notify", ("a@b",), ()) == "tolerated"
    assert tol.level("memory", 256, 384) == "warning"
    assert tol.level("memory", 256, 512) == "drift"
    assert tol.level("schedule", "a", "b") == "drift"
    code, _out = run("validate", "--root", str(root))
    assert code == 0


def test_a_stack_that_tolerates_schedule_drift_is_refused_with_its_line(tmp_path: Path) -> None:
    root = scratch(tmp_path / "repo", ["berlin-payroll-sync"])
    lines = len((root / "Pulumi.staging.yaml").read_text().splitlines())
    _stack(root, "  lockstep:drift:\n    tolerate: [schedule, notify]\n")
    with pytest.raises(SpecInvalid) as info:
        for_stack(root, "staging")
    [error] = info.value.errors
    assert error.render() == (
        f"Pulumi.staging.yaml:{lines + 2}: lockstep:drift.tolerate: 'schedule' — can never tolerate drift (it "
        "decides when or what runs) — remove 'schedule'; tolerable fields are the others, e.g. notify, env, memory")


def test_defaults_warn_on_a_small_memory_change_only() -> None:
    tol = Tolerance()
    assert (tol.level("memory", "256Mi", "272Mi"), tol.level("memory", 256, 300), tol.level("env", {}, {"A": "1"})) \
        == ("warning", "drift", "drift")


def test_a_drift_command_that_is_no_action_says_what_to_type(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = scratch(tmp_path / "repo", ["berlin-payroll-sync"])
    code, _out = run("drift", "adpot", "abc", "--stack", "staging", "--root", str(root))
    assert code == 1
    assert capsys.readouterr().err.strip() == ("lockstep: drift: 'adpot abc' is not a drift action — use "
                                               "`lockstep drift adopt INCIDENT` or `lockstep drift revert INCIDENT`")
