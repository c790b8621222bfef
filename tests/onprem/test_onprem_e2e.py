"""From a repository the test writes (workflows/*.py, Pulumi.e2e.yaml with the live sshd's host key) through the real
program and the SDK's dynamic-provider servicer to the real sshd and crontab."""

from __future__ import annotations

import json
from pathlib import Path

from onprem_engine import Engine, write_repo
from onprem_support import Host


def test_onprem_stack_file_to_real_host_deploys_with_the_pinned_host_key(onprem_host: Host, engine: Engine,
                                                                         tmp_path: Path) -> None:
    root = write_repo(tmp_path / "e2e-first", onprem_host, {"e2e-first": "17 3 * * *"})
    outs = engine.up(root)
    assert engine.steps == ["create e2e-first-box-01"]
    (state,) = outs.values()
    assert state["host"]["host_key"] == onprem_host.host_key  # the stack file's hostKey, not another field's name
    assert onprem_host.crontab().count("# lockstep:begin e2e-first ") == 1
    manifest = json.loads((Path(onprem_host.base_dir("e2e-first")) / "workflows" / "e2e-first" /
                           "manifest.json").read_text())
    assert manifest["state"] == "active" and manifest["version"] == state["version"]
    assert engine.up(root) and engine.steps == ["create e2e-first-box-01"]  # a second up changes nothing
