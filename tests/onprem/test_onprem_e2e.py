"""From a repository the test writes (workflows/*.py, Pulumi.e2e.yaml with the live sshd's host key) through the real
program and the SDK's dynamic-provider servicer to the real sshd and crontab."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from onprem_engine import Engine, ProviderFailed, host_yaml, write_repo
from onprem_support import Host


def test_onprem_stack_file_to_real_host_deploys_with_the_pinned_host_key(onprem_host: Host, engine: Engine,
                                                                         tmp_path: Path) -> None:
    root = write_repo(tmp_path / "e2e-first", onprem_host, {"e2e-first": "17 3 * * *"})
    outs = engine.up(root)
    assert engine.steps == ["create e2e-first-host"]
    (state,) = outs.values()
    assert state["host"]["host_key"] == onprem_host.host_key  # the stack file's hostKey, not another field's name
    assert onprem_host.crontab().count("# lockstep:begin e2e-first ") == 1
    manifest = json.loads((Path(onprem_host.base_dir("e2e-first")) / "workflows" / "e2e-first" /
                           "manifest.json").read_text())
    assert manifest["state"] == "active" and manifest["version"] == state["version"]
    assert engine.up(root) and engine.steps == ["create e2e-first-host"]  # a second up changes nothing


PARALLEL = [f"par-{i}" for i in range(8)]


def _marked(crontab: str) -> dict[str, str]:
    """Return workflow -> version of every marked block in crontab text."""
    found = {}
    for line in crontab.splitlines():
        if line.startswith("# lockstep:begin "):
            fields = line[len("# lockstep:begin "):].split()
            found[fields[0]] = dict(f.split("=", 1) for f in fields[1:])["version"]
    return found


def test_onprem_eight_workflows_deployed_to_one_host_in_parallel_keep_every_entry(
        onprem_host: Host, engine: Engine, tmp_path: Path) -> None:
    operator_line = "# the operator's own job, outside every block\n13 4 * * * /bin/true\n"
    assert onprem_host.as_user("crontab", "-", stdin=operator_line).returncode == 0
    root = write_repo(tmp_path / "parallel", onprem_host, {name: f"{i} 5 * * *" for i, name in enumerate(PARALLEL)})
    for round_ in range(5):  # a create, then four updates of every workflow at once
        code = f"def handler(event, context):\n    print('round {round_}')\n"
        for name in PARALLEL:
            (root / "workflows" / "functions" / name.replace("-", "_") / "main.py").write_text(code)
        outs = engine.up(root)
        want = {o["canonical"]["name"]: o["version"] for o in outs.values()}
        assert _marked(onprem_host.crontab()) == want, f"round {round_}: entries lost or stale"
        assert operator_line in onprem_host.crontab()
        for name, version in want.items():
            manifest = json.loads((Path(onprem_host.base_dir("parallel")) / "workflows" / name /
                                   "manifest.json").read_text())
            assert (manifest["state"], manifest["version"]) == ("active", version), name
    for urn in sorted(engine.state):
        engine.delete(urn)
    assert onprem_host.crontab() == operator_line


def test_onprem_a_deploy_without_an_epoch_cannot_overwrite_another_deployers_newer_code(
        onprem_host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKSTEP_EPOCH", raising=False)  # nothing issues epochs yet: both deploy at 0
    hosts = host_yaml(onprem_host, "box-01", onprem_host.base_dir("fence-0"))
    newer = write_repo(tmp_path / "newer", onprem_host, {"fence-0": "7 7 * * *"}, hosts=hosts,
                       code="def handler(event, context):\n    print('new code')\n")
    stale = write_repo(tmp_path / "stale", onprem_host, {"fence-0": "7 7 * * *"}, hosts=hosts)
    wf = Path(onprem_host.base_dir("fence-0")) / "workflows" / "fence-0"
    ci, laptop = Engine(deployer="ci@runner-2"), Engine(deployer="ci@runner-1")
    try:
        (deployed,) = ci.up(newer).values()
        with pytest.raises(ProviderFailed, match=r"step stage: refused: epoch 0 was accepted from deployer "
                                                 r"'ci@runner-2' and this deploy, by 'ci@runner-1', carries the "
                                                 r"same epoch"):
            laptop.up(stale)
        assert (wf / "current").resolve().name == deployed["version"]  # the newer code still runs
        assert ci.up(newer) and ci.steps == ["create fence-0-host"]  # the same deployer re-running is fine
        monkeypatch.setenv("LOCKSTEP_EPOCH", "1")  # a higher epoch, on purpose, does go through
        (forced,) = laptop.up(stale).values()
        assert (wf / "current").resolve().name == forced["version"] != deployed["version"]
    finally:
        ci.close()
        laptop.close()


def test_onprem_deleted_bundle_is_unhealthy_on_refresh_and_the_next_up_restores_it(
        onprem_host: Host, engine: Engine, tmp_path: Path) -> None:
    root = write_repo(tmp_path / "e2e-gone", onprem_host, {"e2e-gone": "19 3 * * *"})
    (state,) = engine.up(root).values()
    wf = Path(onprem_host.base_dir("e2e-gone")) / "workflows" / "e2e-gone"
    shutil.rmtree(wf / "versions" / state["version"])  # a clean-up script removed the active bundle
    engine.refresh()
    (read,) = engine.state.values()
    assert read[1]["live"]["current_ok"] is False
    engine.up(root)
    assert engine.steps[-1] == "update e2e-gone-host"
    assert (wf / "current" / ".lockstep" / "runner.py").is_file()
