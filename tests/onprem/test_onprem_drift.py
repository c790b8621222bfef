"""`lockstep drift` on a real host over SSH: a crontab line edited by hand at the console is reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.loader import load_repo
from infra.targets.onprem.host.props import props_for
from infra.targets.onprem.host.provider import OnpremWorkflowProvider
from tests.drift.support import REPO, drift
from tests.onprem.onprem_support import KEY_ENV, Host

WF = "drift-watch-probe"  # its own name: other on-prem tests share the test user and its crontab
WORKFLOW = f'''from infra.dsl import cron, workflow

workflow(
    name="{WF}",
    schema=1,
    description="Probe for the on-prem drift reader.",
    owner="drift-tests@example.com",
    schedule=cron("20 3 * * *", tz="UTC"),
    function={{"source": "functions/probe", "entry": "main.handler", "runtime": "python3.11", "memory_mb": 128}},
    retry={{"attempts": 1, "backoff": "fixed", "delay": "1m", "max_delay": "1m", "max_event_age": "1h"}},
    timeout="1m",
    notify=["mailto:drift-tests@example.com"],
    targets={{"onprem": {{"host": "test-host"}}}},
)
'''


def _repo(root: Path, host: Host) -> Path:
    (root / "workflows" / "functions" / "probe").mkdir(parents=True)
    (root / "workflows" / "functions" / "probe" / "main.py").write_text("def handler(event, context):\n    pass\n")
    (root / "workflows" / "drift_watch_probe.py").write_text(WORKFLOW)
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "Pulumi.staging.yaml").write_text(
        "config:\n  lockstep:onprem:\n    privateKeyEnv: " + KEY_ENV + "\n    hosts:\n      - name: test-host\n"
        f"        address: 127.0.0.1\n        port: {host.port}\n        user: {host.user}\n"
        f"        hostKey: {host.host_key}\n        scheduler: cron\n        timezone: Etc/UTC\n"
        f"        baseDir: {host.base_dir('drift-probe')}\n")
    return root


def test_a_crontab_line_edited_by_hand_is_schedule_drift(onprem_host: Host, tmp_path: Path) -> None:
    root = _repo(tmp_path / "repo", onprem_host)
    result = load_repo(root).require_valid()
    stack, [wf] = result.stack("staging"), result.workflows
    assert stack.onprem is not None
    props = props_for(wf, stack.onprem.hosts[0], 1, "0" * 40, private_key_env=KEY_ENV, repo_root=root)
    provider = OnpremWorkflowProvider()
    provider.create(props)
    try:
        code, report = drift(root, "--stack", "staging", "--no-record")
        assert (code, report["findings"]) == (0, []), [f["detail"] for f in report["findings"]]
        crontab = onprem_host.as_user("crontab", "-l").stdout
        edited = "\n".join(("40" + line[2:]) if line.startswith("20 ") else line for line in crontab.splitlines())
        assert edited != crontab
        onprem_host.as_user("crontab", "-", stdin=edited + "\n")
        code, report = drift(root, "--stack", "staging", "--no-record")
        assert (code, [(f["workflow"], f["attribute"], f["desired"], f["live"]) for f in report["findings"]]) == (
            1, [(WF, "schedule", "20 * * * *", "40 * * * *")])
    finally:
        provider.delete("", props)


def test_a_release_git_no_longer_declares_names_its_deployer_from_the_host_manifest(
        onprem_host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path / "repo", onprem_host)
    stack_file = root / "Pulumi.staging.yaml"  # its own base dir: the other test's tombstone holds that fence
    stack_file.write_text(stack_file.read_text().replace("drift-probe", "drift-deployer-probe"))
    monkeypatch.setenv("LOCKSTEP_DRIFT_DIR", str(tmp_path / "incidents"))
    result = load_repo(root).require_valid()
    stack, [wf] = result.stack("staging"), result.workflows
    assert stack.onprem is not None
    props = props_for(wf, stack.onprem.hosts[0], 1, "0" * 40, private_key_env=KEY_ENV, repo_root=root)
    monkeypatch.setenv("LOCKSTEP_DEPLOYER", "ops-jane@bastion-2")
    provider = OnpremWorkflowProvider()
    provider.create(props)
    try:
        path = root / "workflows" / "drift_watch_probe.py"
        path.write_text(path.read_text().replace('timeout="1m"', 'timeout="2m"'))  # git moved on; the host did not
        code, report = drift(root, "--stack", "staging")
        assert code == 1
        assert {(i["attribute"], i["cause"], i["changed_by"]) for i in report["incidents"]} == {
            (field, "not-deployed", "ops-jane@bastion-2") for field in ("timeout_s", "spec_digest", "stamps")}
        assert all(i["changed_by_note"].startswith("host manifest: deployed commit " + "0" * 40 + " at ")
                   for i in report["incidents"])
    finally:
        provider.delete("", props)
