"""The dynamic provider against a real sshd and the real crontab: round trip, idempotency, fencing, drift."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from onprem_support import Host, bundle, canonical, make_props, read_jsonl

from infra.targets.onprem.host.provider import OnpremWorkflowProvider
from infra.targets.onprem.host.ssh import DriftRefused, FencedError, OnpremError, SshSession

OK_CODE = "def handler(event, context):\n    print('ok', event['workflow'])\n"


def _props(host: Host, tmp_path: Path, name: str, code: str = OK_CODE, **kw: Any) -> dict[str, Any]:
    ref = bundle(tmp_path / f"src-{name}-{abs(hash(code)) % 10**6}", code)
    canon_kw = {k: kw.pop(k) for k in list(kw) if k in ("expression", "timezone", "attempts", "timeout_s")}
    return make_props(host, canonical(name, **canon_kw), ref, base_dir=host.base_dir(name), **kw)


def _blocks(host: Host, name: str) -> list[str]:
    return [ln for ln in host.crontab().splitlines() if ln.startswith(f"# lockstep:begin {name} ")]


def _root(host: Host, name: str) -> Path:
    return Path(host.base_dir(name)) / "workflows" / name


def test_onprem_create_read_update_delete_round_trip(onprem_host: Host, tmp_path: Path) -> None:
    provider = OnpremWorkflowProvider()
    props = _props(onprem_host, tmp_path, "round-trip", expression="5 3 * * *")
    created = provider.create(props)
    assert created.id.endswith("/workflows/round-trip")
    outs = created.outs or {}
    root = _root(onprem_host, "round-trip")
    assert (root / "current").resolve() == root / "versions" / outs["version"]
    assert len(_blocks(onprem_host, "round-trip")) == 1
    manifest = json.loads((root / "manifest.json").read_text())
    assert (manifest["digest"], manifest["epoch"], manifest["state"]) == (props["digest"], 1, "active")

    read = provider.read(created.id, dict(outs))
    assert read.id == created.id and read.outs is not None
    assert read.outs["live"]["drift"] is False and read.outs["version"] == outs["version"]
    assert read.outs["live"]["schedule_lines"][0].startswith("5 * * * * ")

    news = _props(onprem_host, tmp_path, "round-trip", code=OK_CODE + "# v2\n", expression="5 3 * * *", epoch=2)
    diff = provider.diff(created.id, read.outs, news)
    assert diff.changes is True and diff.replaces == []
    updated = provider.update(created.id, read.outs, news).outs or {}
    assert updated["version"] != outs["version"]
    assert (root / "current").resolve() == root / "versions" / updated["version"]
    assert len(_blocks(onprem_host, "round-trip")) == 1
    assert sorted(p.name for p in (root / "versions").iterdir()) == sorted([outs["version"], updated["version"]])

    provider.delete(created.id, updated)
    assert _blocks(onprem_host, "round-trip") == []
    assert not (root / "current").exists() and not (root / "versions").exists()
    assert provider.read(created.id, updated).id == ""
    assert json.loads((root / "manifest.json").read_text())["state"] == "deleted"


def test_onprem_repeated_create_leaves_one_entry_and_one_bundle(onprem_host: Host, tmp_path: Path) -> None:
    provider = OnpremWorkflowProvider()
    props = _props(onprem_host, tmp_path, "repeat")
    first = provider.create(props).outs or {}
    second = provider.create(props).outs or {}
    third = provider.update("x", second, props).outs or {}
    assert first["version"] == second["version"] == third["version"]
    assert len(_blocks(onprem_host, "repeat")) == 1
    assert [p.name for p in (_root(onprem_host, "repeat") / "versions").iterdir()] == [first["version"]]


def test_onprem_dropped_connection_between_steps_then_retry_leaves_one_entry(onprem_host: Host,
                                                                              tmp_path: Path) -> None:
    def drop_after_stage(step: str, session: SshSession) -> None:
        if step == "stage":
            session.drop()

    props = _props(onprem_host, tmp_path, "dropped")
    with pytest.raises(OnpremError, match=rf"on-prem host {onprem_host.user}@127\.0\.0\.1:\d+: step activate: "):
        OnpremWorkflowProvider(hook=drop_after_stage).create(props)
    root = _root(onprem_host, "dropped")
    assert not (root / "current").exists() and _blocks(onprem_host, "dropped") == []
    outs = OnpremWorkflowProvider().create(props).outs or {}
    assert len(_blocks(onprem_host, "dropped")) == 1
    assert (root / "current").resolve() == root / "versions" / outs["version"]
    assert [p.name for p in (root / "versions").iterdir()] == [outs["version"]]


def test_onprem_connection_dropped_during_activate_then_retry_converges(onprem_host: Host, tmp_path: Path) -> None:
    def drop_soon_after_stage(step: str, session: SshSession) -> None:
        if step == "stage":
            threading.Timer(0.05, session.drop).start()  # lands while the activate step runs on the host

    props = _props(onprem_host, tmp_path, "dropped-mid")
    try:
        OnpremWorkflowProvider(hook=drop_soon_after_stage).create(props)
    except OnpremError as exc:
        assert exc.step in ("activate", "read")
    outs = OnpremWorkflowProvider().create(props).outs or {}
    root = _root(onprem_host, "dropped-mid")
    assert len(_blocks(onprem_host, "dropped-mid")) == 1
    assert (root / "current").resolve() == root / "versions" / outs["version"]
    assert not (root / "manifest.pending.json").exists()
    assert outs["live"]["drift"] is False


def test_onprem_stale_epoch_is_refused_and_newer_state_survives(onprem_host: Host, tmp_path: Path) -> None:
    provider = OnpremWorkflowProvider()
    newer = provider.create(_props(onprem_host, tmp_path, "fenced", epoch=7)).outs or {}
    zombie = _props(onprem_host, tmp_path, "fenced", code=OK_CODE + "# stale\n", epoch=6)
    with pytest.raises(FencedError, match=r"step stage: refused: deployer epoch 6 is older than the host's "
                                          r"epoch 7"):
        provider.update("x", newer, zombie)
    with pytest.raises(FencedError, match="step delete: refused"):
        provider.delete("x", zombie)
    root = _root(onprem_host, "fenced")
    manifest = json.loads((root / "manifest.json").read_text())
    assert (manifest["epoch"], manifest["version"]) == (7, newer["version"])
    assert (root / "current").resolve() == root / "versions" / newer["version"]
    assert len(_blocks(onprem_host, "fenced")) == 1


def test_onprem_manual_crontab_edit_is_seen_by_read_and_not_silently_reverted(onprem_host: Host,
                                                                               tmp_path: Path) -> None:
    provider = OnpremWorkflowProvider()
    props = _props(onprem_host, tmp_path, "edited", expression="0 4 * * *")
    outs = provider.create(props).outs or {}
    edited = onprem_host.crontab().replace("\n0 * * * * ", "\n30 * * * * ")
    assert onprem_host.as_user("crontab", "-", stdin=edited).returncode == 0  # the emergency fix at the console

    read = provider.read("x", outs).outs or {}
    assert read["live"]["drift"] is True
    assert read["live"]["schedule_lines"][0].startswith("30 * * * * ")
    assert provider.diff("x", read, props).changes is True
    with pytest.raises(DriftRefused, match="step activate: the schedule on the host was changed outside Lockstep"):
        provider.update("x", read, dict(props, epoch=2))
    assert "\n30 * * * * " in onprem_host.crontab()  # the operator's fix is still in place
    drift = read_jsonl(_root(onprem_host, "edited") / "drift.jsonl")
    assert drift and "30 * * * * " in drift[-1]["live"][0]

    reverted = provider.update("x", read, dict(props, epoch=2, on_drift="revert")).outs or {}
    assert reverted["live"]["drift"] is False and "\n0 * * * * " in onprem_host.crontab()
    assert len(_blocks(onprem_host, "edited")) == 1


@pytest.mark.parametrize("fault", ["after-switch", "after-schedule"])
def test_onprem_host_side_crash_half_way_through_activate_is_converged_by_the_retry(
        onprem_host: Host, tmp_path: Path, fault: str) -> None:
    from infra.targets.onprem.host import deploy as steps
    from infra.targets.onprem.host.props import Props

    name = f"crash-{fault}"
    provider = OnpremWorkflowProvider()
    v1 = provider.create(_props(onprem_host, tmp_path, name)).outs or {}
    v2_props = _props(onprem_host, tmp_path, name, code=OK_CODE + "# v2\n", epoch=2)
    with SshSession(Props(v2_props).conn) as session, pytest.raises(OnpremError, match="step activate: "):
        steps.deploy(session, Props(v2_props), previous=v1["version"], fault=fault)
    root = _root(onprem_host, name)
    assert (root / "manifest.pending.json").exists()
    assert json.loads((root / "manifest.json").read_text())["version"] == v1["version"]
    half = provider.read("x", v1).outs or {}
    assert half["live"]["drift"] is False and half["live"]["pending"] is True
    assert half["live"]["current_ok"] is False  # `current` already points at v2; the manifest still says v1

    v2 = provider.update("x", half, v2_props).outs or {}
    assert json.loads((root / "manifest.json").read_text())["version"] == v2["version"] != v1["version"]
    assert (root / "current").resolve() == root / "versions" / v2["version"]
    assert len(_blocks(onprem_host, name)) == 1 and f"version={v2['version']}" in onprem_host.crontab()
    assert not (root / "manifest.pending.json").exists()
