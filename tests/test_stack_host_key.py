"""The host key a stack file pins is the one the on-prem readers and deploys verify the host against."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.loader import load_repo

REPO = Path(__file__).resolve().parents[1]


def test_each_stack_host_carries_the_host_key_written_in_its_file() -> None:
    stacks = load_repo(REPO).require_valid().stacks
    for stack in stacks:
        written = yaml.safe_load((REPO / stack.path).read_text())["config"]["lockstep:onprem"]["hosts"]
        assert stack.onprem is not None
        assert [h.host_key for h in stack.onprem.hosts] == [str(w["hostKey"]).strip() for w in written]
