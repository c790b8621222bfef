"""Replacements from the user's files to the real host: a new address for the same host, a new base directory, and a
move to another host. Pulumi creates a replacement before it deletes the old resource unless the provider asks
otherwise; neither order may remove the new deployment, and a move must never leave the job on both hosts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onprem_engine import Engine, host_yaml, write_repo
from onprem_support import Host


def _kinds(engine: Engine) -> list[str]:
    return [step.split()[0] for step in engine.steps[1:]]


def _blocks(host: Host, name: str) -> list[str]:
    return [ln for ln in host.crontab().splitlines() if ln.startswith(f"# lockstep:begin {name} ")]


def _manifest(base: str, name: str) -> dict[str, Any]:
    return json.loads((Path(base) / "workflows" / name / "manifest.json").read_text())


def _assert_runs_only_from(host: Host, base: str, state: dict[str, Any]) -> None:
    (block,) = _blocks(host, "swap")
    assert f"instance={state['instance']}" in block and f"version={state['version']}" in block
    assert f" {base}/workflows/swap/current/.lockstep/runner.py " in host.crontab()
    manifest = _manifest(base, "swap")
    assert (manifest["state"], manifest["instance"]) == ("active", state["instance"])
    assert (Path(base) / "workflows" / "swap" / "current").resolve().name == state["version"]


def test_onprem_hostname_instead_of_ip_replaces_without_removing_the_new_deployment(
        onprem_host: Host, engine: Engine, tmp_path: Path) -> None:
    base = onprem_host.base_dir("swap-address")
    root = write_repo(tmp_path / "r", onprem_host, {"swap": "1 1 * * *"}, hosts=host_yaml(onprem_host, "box-01", base))
    engine.up(root)
    write_repo(root, onprem_host, {"swap": "1 1 * * *"}, hosts=host_yaml(onprem_host, "box-01", base,
                                                                          address="localhost"))
    (state,) = engine.up(root).values()
    assert _kinds(engine) == ["create-replacement", "delete-replaced"]
    _assert_runs_only_from(onprem_host, base, state)
    for urn in list(engine.state):
        engine.delete(urn)
    assert _blocks(onprem_host, "swap") == [] and _manifest(base, "swap")["state"] == "deleted"


def test_onprem_new_base_dir_moves_the_workflow_and_leaves_a_tombstone_behind(
        onprem_host: Host, engine: Engine, tmp_path: Path) -> None:
    old, new = onprem_host.base_dir("swap-old"), onprem_host.base_dir("swap-new")
    root = write_repo(tmp_path / "r", onprem_host, {"swap": "2 2 * * *"}, hosts=host_yaml(onprem_host, "box-01", old))
    engine.up(root)
    write_repo(root, onprem_host, {"swap": "2 2 * * *"}, hosts=host_yaml(onprem_host, "box-01", new))
    (state,) = engine.up(root).values()
    assert _kinds(engine) == ["create-replacement", "delete-replaced"]
    _assert_runs_only_from(onprem_host, new, state)
    assert _manifest(old, "swap")["state"] == "deleted"
    assert not (Path(old) / "workflows" / "swap" / "versions").exists()
    for urn in list(engine.state):
        engine.delete(urn)


def test_onprem_move_to_another_host_deletes_there_first_so_it_never_runs_on_both(
        onprem_host: Host, engine: Engine, tmp_path: Path) -> None:
    one, two = onprem_host.base_dir("swap-box-01"), onprem_host.base_dir("swap-box-02")
    hosts = host_yaml(onprem_host, "box-01", one) + host_yaml(onprem_host, "box-02", two,
                                                             port=onprem_host.other_port,
                                                             host_key=onprem_host.other_host_key)
    root = write_repo(tmp_path / "r", onprem_host, {"swap": "3 3 * * *"}, hosts=hosts, on={"swap": "box-01"})
    engine.up(root)
    write_repo(root, onprem_host, {"swap": "3 3 * * *"}, hosts=hosts, on={"swap": "box-02"})
    (state,) = engine.up(root).values()
    assert engine.steps[1:] == ["delete swap-host", "create swap-host"]  # never on both hosts at once
    assert state["host"]["name"] == "box-02"
    _assert_runs_only_from(onprem_host, two, state)
    assert _manifest(one, "swap")["state"] == "deleted"
    for urn in list(engine.state):
        engine.delete(urn)


def test_onprem_cron_to_systemd_takes_the_crontab_block_over_and_keeps_the_units(
        onprem_host: Host, engine: Engine, tmp_path: Path) -> None:
    # systemd cannot run here; a stand-in `systemctl` on the deploy user's PATH records what the deploy asks of it.
    home, calls = onprem_host.home, onprem_host.home / "systemctl.calls"
    (home / "sbin").mkdir(exist_ok=True)
    (home / "sbin" / "systemctl").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (home / "sbin" / "systemctl").chmod(0o755)
    env = home / ".ssh" / "environment"
    env.write_text(f"PATH={home / 'sbin'}:/usr/bin:/bin\n")
    base = onprem_host.base_dir("swap-sched")
    try:
        root = write_repo(tmp_path / "r", onprem_host, {"swap": "4 4 * * *"},
                          hosts=host_yaml(onprem_host, "box-01", base))
        engine.up(root)
        write_repo(root, onprem_host, {"swap": "4 4 * * *"},
                   hosts=host_yaml(onprem_host, "box-01", base, scheduler="systemd"))
        (state,) = engine.up(root).values()
    finally:
        env.unlink()
    assert _kinds(engine) == ["create-replacement", "delete-replaced"]
    assert _blocks(onprem_host, "swap") == []  # the cron entry is gone: the job runs from the timer alone
    units = home / ".config" / "systemd" / "user"
    timer = (units / "lockstep-swap.timer").read_text()
    assert f"lockstep-instance={state['instance']}" in timer  # the old resource's delete left the new units
    assert _manifest(base, "swap")["instance"] == state["instance"]
    assert "--user enable --now lockstep-swap.timer" in calls.read_text()
