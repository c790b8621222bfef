"""The rollout on a real host (sshd + cron): the on-prem epoch is the lease's, and once the lease is taken over every
host write of the old runner is refused — by the program's lease hook before the engine acts, and by the host's own
epoch fence when a zombie slips past the hook. Uses its own workflow name; the ledger is a real bare git remote."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from onprem_support import KEY_ENV, Host

from infra.checks import validate_repo
from infra.ledger.fence import Fenced
from infra.ledger.store import GitLedger
from infra.ledger.writer import Writer
from infra.rollout import plan as planning
from infra.rollout.live import OnpremReader, Readers
from infra.rollout.run import Options, rollout
from infra.rollout.step import OK, lease_env
from infra.targets.onprem.host.provider import OnpremWorkflowProvider
from infra.targets.onprem.host.ssh import FencedError
from infra.targets.onprem.normalize import RESOURCE
from tests.rollout.double import Faults, RecordingEngine, load_record
from tests.rollout.support import bare_remote, make_repo

NAME = "rollout-fence-probe"


def stack_text(host: Host) -> str:
    """Return a staging stack whose one on-prem host is the live test host."""
    return f"""config:
  lockstep:onprem:
    privateKeyEnv: {KEY_ENV}
    hosts:
      - name: test-host
        address: 127.0.0.1
        port: {host.port}
        user: {host.user}
        hostKey: {host.host_key}
        scheduler: cron
        timezone: UTC
        baseDir: {host.base_dir(NAME)}
"""


def manifest(host: Host) -> dict[str, object]:
    """Return the workflow's manifest as the host holds it."""
    found = list(Path(host.base_dir(NAME)).rglob("manifest.json"))
    assert len(found) == 1, found
    return dict(json.loads(found[0].read_text()))


def test_epochs_come_from_the_lease_and_a_taken_over_runner_cannot_write_to_the_host(onprem_host: Host,
                                                                                      tmp_path: Path) -> None:
    repo = make_repo(tmp_path, name=NAME, stacks={"staging": stack_text(onprem_host)}, targets='{"onprem": {}}')
    remote, platform = bare_remote(tmp_path), tmp_path / "platform"
    engine = lambda tree: RecordingEngine(tree, platform, Faults())  # noqa: E731
    reader = Readers({"onprem": OnpremReader(repo.at_a)})
    lines: list[str] = []
    code = rollout(Options(repo.at_a, "staging", "ci-1"), GitLedger(str(remote)), engine, reader, say=lines.append)
    assert code == OK, "\n".join(lines)
    assert manifest(onprem_host)["epoch"] == 1  # the lease's epoch reached the host

    now = dt.datetime.now(dt.UTC)
    zombie = Writer(GitLedger(str(remote)), "staging", "ci-old", ttl_s=60)
    zombie.acquire()  # epoch 2: then it stalls
    later = lambda: now + dt.timedelta(seconds=120)  # noqa: E731
    assert rollout(Options(repo.at_b, "staging", "ci-new", ttl_s=60), GitLedger(str(remote)), engine, reader,
                   say=lines.append, clock=later) == OK, lines
    after_b = manifest(onprem_host)
    assert after_b["epoch"] == 3 and "takeover" in " ".join(lines)

    # The zombie wakes up and tries to put A back: through the engine (the program's hook refuses) ...
    result = validate_repo(repo.at_a).require_valid()
    cap = planning.capture(repo.at_a, result, result.stack("staging"), zombie.epoch)
    [reg] = [r for r in cap.registrations if r.type == RESOURCE]
    with lease_env(zombie):
        verdict = RecordingEngine(repo.at_a, platform, Faults()).up("staging", urns=[reg.urn],
                                                                   plan=_plan(tmp_path, cap))
    assert "refused" in verdict.error and "not by ci-old at epoch 2" in verdict.error
    # ... and straight at the host, as a zombie that passed the hook just before the takeover (the host refuses).
    props = {k: v for k, v in reg.inputs.items() if k != "__provider"}
    assert props["epoch"] == 2
    old = load_record(platform, "staging")[reg.urn]
    with pytest.raises(FencedError, match="refused"):
        OnpremWorkflowProvider().update(old["id"], old["outs"], json.loads(json.dumps(props, default=str)))
    with pytest.raises(Fenced):
        zombie.record("applied", evidence={"wave": 0})
    assert manifest(onprem_host)["digest"] == after_b["digest"] and manifest(onprem_host)["epoch"] == 3


def _plan(tmp: Path, cap: planning.Capture) -> Path:
    """Save a capture as the double's plan file."""
    path = tmp / "zombie-plan.json"
    path.write_text(json.dumps([{"urn": r.urn, "type": r.type, "name": r.name, "custom": r.custom, "parent": r.parent,
                                 "provider": "", "inputs": {k: v for k, v in r.inputs.items() if k != "__provider"}}
                                for r in cap.registrations], default=str))
    return path
