"""Break-glass from the command line: while open, the rollout leaves that workflow on that target alone and says so;
once expired, rollouts stop until someone records adopt or revert. GitHub facts come from recorded payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import cli
from infra.ledger import github
from infra.ledger.store import GitLedger
from infra.ledger.writer import Writer
from infra.rollout.step import OK, REFUSED
from tests.rollout.conftest import World
from tests.rollout.double import load_record


def glass(world: World, *args: str) -> int:
    """Run `lockstep breakglass ...` against the world's ledger."""
    return cli.main(["breakglass", *args, "--stack", "staging", "--workflow", "rollout-probe", "--target", "gcp",
                     "--root", str(world.repo.at_b), "--ledger-remote", str(world.remote)])


def gcp_inputs(world: World) -> list[Any]:
    """Return the recorded inputs of the probe's GCP resources."""
    return sorted(str(r["inputs"]) for u, r in load_record(world.platform, "staging").items() if ":gcp:" in u)


def test_an_open_break_glass_keeps_the_rollout_off_that_workflow_on_that_target(world: World,
                                                                                capsys: pytest.CaptureFixture[str]
                                                                                ) -> None:
    before = gcp_inputs(world)
    assert glass(world, "open", "--reason", "INC-1: hand-tuned the function", "--expires", "4h") == 0
    assert "break-glass open on rollout-probe/gcp" in capsys.readouterr().out
    assert world.run(world.repo.at_b) == OK, world.lines
    assert gcp_inputs(world) == before  # not overwritten
    [intent] = [e for e in world.entries() if e.kind == "intent" and e.evidence.get("wave") == 1  # type: ignore[attr-defined]
                and e.commit == world.repo.b]  # type: ignore[attr-defined]
    assert intent.evidence["break_glass"] == ["rollout-probe/gcp"]


def test_an_expired_break_glass_demands_adopt_or_revert(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert glass(world, "open", "--reason", "INC-2", "--expires", "2020-01-01T00:00:00+00:00") == 2
    assert "is already past" in capsys.readouterr().err  # nothing was appended
    Writer(GitLedger(str(world.remote)), "staging", "ops").record_unleased("break-glass", evidence={
        "action": "open", "workflow": "rollout-probe", "target": "gcp", "reason": "INC-2",
        "expires": "2020-01-01T00:00:00+00:00"})  # a window as it stands once its time has passed
    assert world.run(world.repo.at_b) == REFUSED
    assert "expired" in world.lines[-1] and "adopt|revert" in world.lines[-1]
    assert glass(world, "close", "--reason", "restored") == 2
    assert "--resolution" in capsys.readouterr().err
    assert glass(world, "close", "--resolution", "revert") == 2
    assert "after-the-fact review note" in capsys.readouterr().err
    capsys.readouterr()
    assert glass(world, "close", "--resolution", "revert", "--reason", "restored by the pipeline",
                 "--format", "json") == 0
    closed = json.loads(capsys.readouterr().out)
    assert closed["ok"] and closed["action"] == "close" and closed["resolution"] == "revert"
    assert closed["entry"] == world.entries()[-1].seq  # type: ignore[attr-defined]
    assert world.run(world.repo.at_b) == OK, world.lines
    assert glass(world, "close", "--resolution", "adopt", "--reason", "x", "--format", "json") == 1  # none open
    refused = json.loads(capsys.readouterr().out)
    assert refused["ok"] is False and refused["exit"] == 1 and "no open break-glass" in refused["errors"][0]["message"]


RECORDED = {
    "/repos/acme/lockstep/commits/abc/pulls": [{"number": 42, "merged_at": "2026-12-01T10:00:00Z",
                                                 "user": {"login": "alice"}}],
    "/repos/acme/lockstep/pulls/42/reviews": [{"user": {"login": "bob"}, "state": "CHANGES_REQUESTED"},
                                               {"user": {"login": "bob"}, "state": "APPROVED"},
                                               {"user": {"login": "alice"}, "state": "APPROVED"}],
    "/repos/acme/lockstep/rulesets/rule-suites?ref=refs/heads/main": [{"after_sha": "abc", "result": "bypass"}],
}


def test_merge_facts_come_from_the_push_event_and_the_recorded_api(tmp_path: Path) -> None:
    event = {"after": "abc", "repository": {"full_name": "acme/lockstep"}, "pusher": {"name": "alice"}}
    found = github.facts(event, RECORDED.__getitem__)
    assert found == {"repository": "acme/lockstep", "commit": "abc", "pusher": "alice", "pr": 42, "author": "alice",
                     "approvers": ["bob"], "review_decision": "APPROVED", "admin_bypass": True}
    assert github.facts(event, None)["review_decision"] == "unknown"  # no token: unknown, never guessed


def test_a_dry_run_from_the_command_line_prints_one_json_document_with_the_ledger_tip(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    tip = world.entries()[-1]
    code = cli.main(["rollout", "--stack", "staging", "--engine", "offline", "--dry-run", "--format", "json",
                     "--root", str(world.repo.at_b), "--ledger-remote", str(world.remote)])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert (code, doc["ok"], doc["exit"], doc["stack"], doc["dry_run"]) == (0, True, 0, "staging", True)
    assert doc["outcome"] == "dry run: nothing was leased or applied"
    assert doc["ledger_tip"] == {"seq": tip.seq, "digest": tip.digest(), "kind": tip.kind}  # type: ignore[attr-defined]
    assert doc["lines"] and captured.err.splitlines() == doc["lines"]  # progress went to stderr, as said


def test_a_break_glass_on_an_undeclared_workflow_or_twice_on_one_is_refused_before_the_ledger(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(world.entries())
    assert cli.main(["breakglass", "open", "--stack", "staging", "--workflow", "nosuch", "--target", "gcp",
                     "--reason", "INC-3", "--root", str(world.repo.at_b), "--ledger-remote", str(world.remote)]) == 2
    assert "--workflow: 'nosuch' — is not a declared workflow — one of" in capsys.readouterr().err
    assert glass(world, "open", "--reason", "INC-4") == 0
    assert glass(world, "open", "--reason", "INC-4 again") == 2
    assert "already has a break-glass open" in capsys.readouterr().err
    assert len(world.entries()) == before + 1
