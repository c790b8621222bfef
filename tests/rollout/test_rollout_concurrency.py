"""Five rollouts of one stack started at once, each its own process, against one real bare git remote: exactly one
applies; the other four exit 4 naming the lease holder, and never write about the release."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from infra.ledger.store import GitLedger
from infra.rollout.step import HELD, OK
from tests.rollout.conftest import World

RUNNERS = 5
SCRIPT = Path(__file__).with_name("run_double.py")


def test_five_rollouts_at_once_exactly_one_applies_and_four_name_the_holder(world: World, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = {f"ci-run-{i}": subprocess.Popen(
        [sys.executable, str(SCRIPT), str(world.repo.at_b), str(world.remote), str(world.platform), f"ci-run-{i}",
         str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(RUNNERS)}
    deadline = time.monotonic() + 120  # every process has imported: they start together
    while len(list(tmp_path.glob("go.ready-*"))) < RUNNERS and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    results = {}
    for holder, proc in procs.items():
        out, err = proc.communicate(timeout=170)
        results[holder] = (proc.returncode, out.splitlines(), err[-2000:])
    winners = [h for h, (code, _, _) in results.items() if code == OK]
    assert len(winners) == 1, results
    for holder, (code, lines, err) in results.items():
        if holder != winners[0]:
            assert code == HELD, (code, lines, err)
            assert winners[0] in lines[0] and "lease epoch 2" in lines[0], lines
    entries = GitLedger(str(world.remote)).read()
    about_b = [e for e in entries if e.commit == world.repo.b or e.evidence.get("commit") == world.repo.b]
    assert {e.holder for e in about_b} == {winners[0]}  # only the winner ever wrote about B
    assert [e.evidence["wave"] for e in about_b if e.kind == "applied"] == [0, 1]
