"""Verification catches what is live and differs, rollback finds ghosts, staging comes before prod, and a bad
release is not released again by a re-run. World: release A verified on staging; B is rolled out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.rollout.step import NEEDS_HUMAN, OK, REFUSED, ROLLED_BACK
from tests.rollout.conftest import World
from tests.rollout.support import git

DRIFTS = {
    "timeout": ("aws:lambda/function:Function", ("timeout",), 999),
    "schedule": ("aws:scheduler/schedule:Schedule", ("scheduleExpression",), "cron(15 3 * * ? *)"),
    "env": ("aws:lambda/function:Function", ("environment", "variables", "MODE"), "hand-edited"),
}


def verified(world: World, purpose: str = "release") -> list[dict[str, object]]:
    """Return the evidence of the verified entries of one purpose made while rolling out B."""
    entries = world.entries()
    start = next(i for i, e in enumerate(entries) if e.commit == world.repo.b)  # type: ignore[attr-defined]
    return [dict(e.evidence) for e in entries[start:]  # type: ignore[attr-defined]
            if e.kind == "verified" and e.evidence.get("purpose") == purpose]  # type: ignore[attr-defined]


@pytest.mark.parametrize("field", sorted(DRIFTS))
def test_a_live_field_that_differs_from_desired_fails_the_wave_and_rolls_back(world: World, field: str) -> None:
    urn, path, value = DRIFTS[field]
    world.faults.drift = {urn: (path, value)}
    assert world.run(world.repo.at_b) == ROLLED_BACK, world.lines
    failed = verified(world)[-1]
    assert failed["result"] == "fail" and failed["wave"] == 0
    detail = " ".join(d for c in failed["checks"] for d in c["detail"])  # type: ignore[attr-defined]
    assert field in detail, detail
    assert [v["result"] for v in verified(world, "rollback")] == ["pass"]


def test_an_unreadable_platform_is_inconclusive_never_a_pass(world: World) -> None:
    world.faults.unreadable = {"gcp"}
    assert world.run(world.repo.at_b) == NEEDS_HUMAN, world.lines  # the rollback cannot be verified either
    results = [(v["wave"], v["result"]) for v in verified(world)]
    assert results == [(0, "pass"), (1, "inconclusive")]
    assert any("unreadable" in line for line in world.lines)


def test_a_failed_apply_rolls_every_applied_wave_back(world: World) -> None:
    world.faults.fail_urn = "gcp:cloudfunctionsv2/function:Function"
    assert world.run(world.repo.at_b) == ROLLED_BACK, world.lines
    applied = [dict(e.evidence) for e in world.entries() if e.kind == "applied"]  # type: ignore[attr-defined]
    assert [(a["purpose"], a["wave"], a["result"]) for a in applied[-4:]] == [
        ("release", 0, "ok"), ("release", 1, "failed"), ("rollback", 0, "ok"), ("rollback", 1, "ok")]


def test_a_ghost_left_behind_by_the_rollback_is_found(world: World) -> None:
    world.faults.drift = {"gcp:cloudfunctionsv2/function:Function": (("serviceConfig", "timeoutSeconds"), 999)}
    world.faults.ghost_urn = "aws:sqs/queue:Queue"  # the rollback never restores this one
    assert world.run(world.repo.at_b) == NEEDS_HUMAN, world.lines
    ghosts = [line for line in world.lines if "GHOST" in line]
    assert ghosts and "aws:sqs/queue:Queue" in ghosts[0] and "failed release's digest" in ghosts[0]


def test_prod_needs_the_same_commit_verified_on_staging_first(world: World) -> None:
    assert world.run(world.repo.at_b, stack="prod") == REFUSED
    assert any("not recorded as verified on staging" in line for line in world.lines)
    assert not [e for e in world.entries() if e.stack == "prod" and e.kind == "intent"]  # type: ignore[attr-defined]
    assert world.run(world.repo.at_a, stack="prod") == OK, world.lines  # A is verified on staging


def test_prod_without_staging_is_a_recorded_break_glass(world: World) -> None:
    assert world.run(world.repo.at_b, stack="prod", without_after="INC-4711: hotfix") == OK, world.lines
    [glass] = [e for e in world.entries() if e.kind == "break-glass"]  # type: ignore[attr-defined]
    assert glass.evidence["scope"] == "skip-after" and glass.evidence["reason"] == "INC-4711: hotfix"


def test_a_bad_release_is_not_released_again_without_an_override(world: World) -> None:
    world.faults.drift = {"aws:lambda/function:Function": (("timeout",), 999)}
    assert world.run(world.repo.at_b) == ROLLED_BACK
    world.faults.drift = {}
    before = len(world.entries())
    assert world.run(world.repo.at_b) == REFUSED
    assert "bad release" in world.lines[-1]
    assert not [e for e in world.entries()[before:] if e.kind == "intent"]  # type: ignore[attr-defined]
    assert world.run(world.repo.at_b, override_bad="the drift was an injected fault") == OK, world.lines


def test_a_commit_that_does_not_validate_is_refused_and_the_lease_given_back(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(world.repo.at_b, broken)
    flow = broken / "workflows" / "probe.py"
    flow.write_text(flow.read_text().replace('timeout="4m"', 'timeout="forever"'))
    git(broken, "commit", "-qam", "a typo")
    assert world.run(broken) == REFUSED
    assert "timeout" in world.lines[-1] and "nothing was applied" in world.lines[-1]
    last = world.entries()[-1]
    assert last.kind == "lease" and last.evidence["action"] == "release"  # type: ignore[attr-defined]
