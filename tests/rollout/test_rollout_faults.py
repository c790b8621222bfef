"""Crash at every step boundary of a two-wave rollout, then resume: every target ends on exactly one recorded release.

The world starts with release A verified on staging ([aws] then [gcp]); each case rolls out B and dies at one step
boundary (a Crash the rollout cannot catch, as a killed runner), then the same CI run resumes (`--resume`). The
engine is the test double of `pulumi up` (tests/rollout/double.py); the ledger is real git on a bare remote.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.ledger.entry import Entry
from infra.rollout.state import deployed
from infra.rollout.verify import stamped_digests
from tests.rollout.conftest import World
from tests.rollout.double import Crash, load_record, owner

TARGETS = ("aws", "gcp")
RELEASE = ["intent:release:0", "applied-before-record:release:0", "applied:release:0", "verified:release:0",
           "intent:release:1", "applied-before-record:release:1", "applied:release:1", "verified:release:1",
           "verified:release"]
MID_APPLY = ["aws:lambda/function:Function", "gcp:cloudfunctionsv2/function:Function"]
ROLLBACK = ["verified:release:0", "rollback:start", "intent:rollback:0", "applied-before-record:rollback:0",
            "applied:rollback:0", "verified:rollback:0", "rollback:done", "bad-release"]
DRIFT = {"aws:lambda/function:Function": (("timeout",), 999)}


def live_digests(world: World) -> dict[str, set[str]]:
    """Return, per target, every spec digest stamped on its live resources."""
    record = load_record(world.platform, "staging")
    out: dict[str, set[str]] = {t: set() for t in TARGETS}
    for urn, res in record.items():
        found = owner(record, urn)
        if res["custom"] and found is not None:
            out[found[1]] |= stamped_digests(res["inputs"])
    return out


def digest_of(entries: list[Any], commit: str) -> str:
    """Return the probe workflow's spec digest at a commit, from the gate or release entries."""
    return next(e.digests["rollout-probe"] for e in entries if e.commit == commit and e.digests)


def assert_one_release_each(world: World, expected: str) -> None:
    """Every target runs exactly one release: the one the ledger last recorded as verified on it, `expected`."""
    entries: list[Entry] = world.entries()  # type: ignore[assignment]
    recorded = deployed(entries, "staging")
    live = live_digests(world)
    for target in TARGETS:
        assert recorded[target] == expected, (target, recorded)
        assert live[target] == {digest_of(entries, expected)}, (target, live[target], world.lines)


@pytest.mark.parametrize("boundary", RELEASE)
def test_crash_at_a_release_boundary_then_resume_releases_b(world: World, boundary: str) -> None:
    world.faults.crash_at = boundary
    with pytest.raises(Crash):
        world.run(world.repo.at_b, holder="ci-run-7")
    world.faults.crash_at = ""
    assert world.run(world.repo.at_b, holder="ci-run-7", resume=True) == 0, world.lines
    assert_one_release_each(world, world.repo.b)
    kinds = [(e.kind, e.evidence.get("action")) for e in world.entries()]  # type: ignore[attr-defined]
    assert ("lease", "takeover") in kinds  # the resumed run fenced the dead one
    if boundary.startswith("intent:"):
        resume = [e for e in world.entries() if e.kind == "resume"]  # type: ignore[attr-defined]
        assert resume and resume[-1].evidence["decision"] == "re-apply", "an indeterminate wave is re-verified first"


@pytest.mark.parametrize("urn", MID_APPLY)
def test_crash_mid_apply_is_indeterminate_reverified_then_reapplied(world: World, urn: str) -> None:
    world.faults.crash_urn = urn
    with pytest.raises(Crash):
        world.run(world.repo.at_b, holder="ci-run-8")
    world.faults.crash_urn = ""
    assert world.run(world.repo.at_b, holder="ci-run-8", resume=True) == 0, world.lines
    assert_one_release_each(world, world.repo.b)
    [resume] = [e for e in world.entries() if e.kind == "resume"]  # type: ignore[attr-defined]
    assert resume.evidence["found"] == "fail" and resume.evidence["decision"] == "re-apply"


@pytest.mark.parametrize("boundary", ROLLBACK)
def test_crash_during_rollback_then_resume_ends_on_the_last_verified_release(world: World, boundary: str) -> None:
    world.faults.drift = DRIFT  # B's wave 1 verifies as failed: the rollout rolls back to A
    world.faults.crash_at = boundary
    with pytest.raises(Crash):
        world.run(world.repo.at_b, holder="ci-run-9")
    world.faults.crash_at = ""
    code = world.run(world.repo.at_b, holder="ci-run-9", resume=True)
    assert code == (3 if boundary == "bad-release" else 5), world.lines
    assert_one_release_each(world, world.repo.a)
    entries = world.entries()
    assert [e.kind for e in entries if e.commit == world.repo.b][-1] == "bad-release"  # type: ignore[attr-defined]
