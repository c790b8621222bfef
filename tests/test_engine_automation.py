"""The Automation API path at its boundary: a fake stack stands in for the CLI, which cannot run here."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra.engine import automation as engine_pulumi
from infra.errors import LockstepError


class FakeStack:
    """Records each call and replays policy events, optionally failing like the CLI does."""

    def __init__(self, events: list[tuple[str, str, str]], fail: str = "") -> None:
        self.events, self.fail, self.kwargs, self.calls = events, fail, {}, []  # type: ignore[var-annotated]

    def _op(self, name: str, kwargs: Any) -> Any:
        self.kwargs = kwargs
        self.calls.append(name)
        for policy, level, message in self.events:
            kwargs["on_event"](SimpleNamespace(policy_event=SimpleNamespace(
                policy_name=policy, enforcement_level=level, resource_urn="urn:x", message=message)))
        if self.fail:
            raise RuntimeError(self.fail)
        return SimpleNamespace(summary=SimpleNamespace(resource_changes={"update": 2, "same": 5}))

    def preview(self, **kwargs: Any) -> Any:
        return self._op("preview", kwargs)

    def up(self, **kwargs: Any) -> Any:
        return self._op("up", kwargs)

    def refresh(self, **kwargs: Any) -> Any:
        return self._op("refresh", kwargs)

    def outputs(self) -> dict[str, Any]:
        return {"workflows": SimpleNamespace(value=["nightly-ledger-export"], secret=False)}


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


def test_up_applies_only_the_waves_urns_with_the_saved_plan_and_reports_its_changes(tmp_path: Path) -> None:
    from infra.engine.automation import AutomationEngine

    stack = FakeStack([])
    engine = AutomationEngine(tmp_path, tmp_path / "plans", select=lambda _n, _r: stack)
    verdict = engine.up("prod", urns=["urn:a", "urn:b"], plan=tmp_path / "plans" / "prod.plan.json")
    assert not verdict.blocked and verdict.changes == {"update": 2, "same": 5}
    assert stack.kwargs["target"] == ["urn:a", "urn:b"]
    assert stack.kwargs["plan"] == str(tmp_path / "plans" / "prod.plan.json")
    assert stack.kwargs["policy_packs"] == [str(tmp_path / "policies")]
    assert engine.refresh("prod").operation == "refresh" and stack.calls == ["up", "refresh"]
    assert engine.outputs("prod") == {"workflows": ["nightly-ledger-export"]}


def test_a_failed_up_is_a_blocked_verdict_with_the_clis_last_line(tmp_path: Path) -> None:
    from infra.engine.automation import AutomationEngine

    stack = FakeStack([], fail="code: 255\n stderr: error: the plan does not match")
    verdict = AutomationEngine(tmp_path, tmp_path, select=lambda _n, _r: stack).up("prod")
    assert verdict.blocked and verdict.error == "stderr: error: the plan does not match"


def test_the_offline_engine_previews_but_never_applies(tmp_path: Path) -> None:
    from infra.engine.base import EngineError
    from infra.engine.offline import OfflineEngine
    from tests.preview_support import scratch_repo

    root = scratch_repo(tmp_path / "repo")
    engine = OfflineEngine(root, cache_dir=tmp_path / "cache")
    verdict = engine.preview("staging")
    assert verdict.operation == "preview" and not verdict.blocked and verdict.changes.get("same", 0) > 0
    for call in (lambda: engine.up("staging"), lambda: engine.refresh("staging"), lambda: engine.outputs("staging")):
        with pytest.raises(EngineError, match="the offline engine runs the program under Pulumi's mocks and cannot"):
            call()


def test_engines_are_chosen_by_name_and_an_unknown_name_says_which_exist(tmp_path: Path) -> None:
    from infra.engine.automation import AutomationEngine
    from infra.engine.base import EngineError
    from infra.engine.choose import engine
    from infra.engine.offline import OfflineEngine

    assert isinstance(engine("offline", tmp_path), OfflineEngine)
    assert isinstance(engine("pulumi", tmp_path), AutomationEngine)
    with pytest.raises(EngineError, match="engine 'terraform' is not one of offline, pulumi"):
        engine("terraform", tmp_path)
