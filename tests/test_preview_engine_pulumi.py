"""The Automation API path at its boundary: a fake stack stands in for the CLI, which cannot run here."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.errors import LockstepError
from infra.preflight import engine_pulumi


class FakeStack:
    """Records the preview call and replays policy events, optionally failing like the CLI does."""

    def __init__(self, events: list[tuple[str, str, str]], fail: str = "") -> None:
        self.events, self.fail, self.kwargs = events, fail, {}

    def preview(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        for policy, level, message in self.events:
            kwargs["on_event"](SimpleNamespace(policy_event=SimpleNamespace(
                policy_name=policy, enforcement_level=level, resource_urn="urn:x", message=message)))
        if self.fail:
            raise RuntimeError(self.fail)


def test_a_clear_error_when_the_cli_is_absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LockstepError, match=r"the Pulumi CLI is not installed .* lockstep preview --stack"):
        engine_pulumi.preview_stacks(tmp_path, ["staging"], tmp_path / "plans")


def test_each_stack_is_previewed_with_the_pack_its_config_and_a_saved_plan(tmp_path: Path) -> None:
    stacks = {"staging": FakeStack([]), "prod": FakeStack([])}
    verdicts = engine_pulumi.preview_stacks(tmp_path, ["staging", "prod"], tmp_path / "plans",
                                            select=lambda name, _root: stacks[name])
    assert [v.blocked for v in verdicts] == [False, False]
    kwargs = stacks["prod"].kwargs
    assert kwargs["policy_packs"] == [str(tmp_path / "policies")]
    assert kwargs["plan"] == str(tmp_path / "plans" / "prod.plan.json")
    config = json.loads(Path(kwargs["policy_pack_configs"][0]).read_text())
    assert config["no-orphans"] == {"repoRoot": str(tmp_path), "stack": "prod"}
    assert "enforcementLevel" not in config["no-orphans"]  # the pack's own (mandatory) level stays in force


def test_a_cant_run_during_preview_note_blocks_even_though_the_engine_says_advisory(tmp_path: Path) -> None:
    stack = FakeStack([("platform-limits", "advisory", "can't run policy 'platform-limits' during preview: ...")])
    [verdict] = engine_pulumi.preview_stacks(tmp_path, ["staging"], tmp_path, select=lambda _n, _r: stack)
    assert verdict.blocked
    assert "[advisory] platform-limits" in engine_pulumi.render([verdict])


def test_a_failed_preview_blocks_and_keeps_the_last_line_of_the_error(tmp_path: Path) -> None:
    stack = FakeStack([("no-orphans", "mandatory", "orphan")], fail="code: 255\n stderr: error: preview failed")
    [verdict] = engine_pulumi.preview_stacks(tmp_path, ["staging"], tmp_path, select=lambda _n, _r: stack)
    assert verdict.blocked and verdict.error == "stderr: error: preview failed"
