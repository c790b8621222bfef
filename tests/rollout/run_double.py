"""Run one rollout with the test-double engine in its own process (the concurrency test starts five at once).

usage: run_double.py ROOT REMOTE PLATFORM HOLDER GO_FILE — waits (bounded) until GO_FILE exists, then rolls out
ROOT to staging and exits with the rollout's exit code; prints its progress lines.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.ledger.store import GitLedger
from infra.rollout.run import Options, rollout
from tests.rollout.double import Faults, RecordedReader, RecordingEngine


def main() -> int:
    """Wait for the start signal, then run the rollout."""
    root, remote, platform, holder, go = sys.argv[1:6]
    Path(f"{go}.ready-{holder}").touch()  # imported: ready to start
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            return 99
        time.sleep(0.01)
    faults = Faults()
    return rollout(Options(Path(root), "staging", holder), GitLedger(remote),
                   lambda tree: RecordingEngine(tree, Path(platform), faults), RecordedReader(Path(platform), faults),
                   say=lambda line: print(line, flush=True))


if __name__ == "__main__":
    sys.exit(main())
