"""`lockstep preview --watch`: one resident process judges every change to a workflow file, and Ctrl-C ends it."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.preview_support import REPO, edit, scratch_repo

CLI = "import sys; sys.path.insert(0, sys.argv.pop(1)); from infra import cli; cli.run()"
FIRST_S = 600.0  # the first round captures every workflow (cold); later rounds capture only what changed
CHANGE_S = 180.0


class Lines:
    """A process's output lines as they come, read by a thread, waited for with a deadline."""

    def __init__(self, stream: object) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, wanted: str, timeout: float) -> list[str]:
        """Return the lines up to the first that starts with `wanted`; fail after `timeout` seconds or at EOF."""
        deadline = time.monotonic() + timeout
        got: list[str] = []
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line starting {wanted!r} within {timeout:.0f} s; got {got}") from None
            if line is None:
                raise AssertionError(f"the process ended before {wanted!r}; got {got}")
            got.append(line)
            self.seen.append(line)
            if line.startswith(wanted):
                return got


def test_watch_prints_the_verdict_of_each_changed_workflow_and_ctrl_c_ends_it_cleanly(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    env = {**os.environ, "LOCKSTEP_WATCH_INTERVAL": "0.1"}
    proc = subprocess.Popen([sys.executable, "-c", CLI, str(REPO), "preview", "--watch", "--stack", "staging",
                             "--root", str(root), "--cache-dir", str(tmp_path / "cache")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        out = Lines(proc.stdout)
        first = out.until("watching ", FIRST_S)
        assert any(line.startswith("staging: PASS: every policy passes") for line in first), first
        drain = root / "workflows" / "quarter_hour_queue_drain.py"
        edit(drain, 'cron("*/15 * * * *"', 'cron("0 6 * * MON#1"')
        round_two = out.until("staging: BLOCKED", CHANGE_S)
        assert round_two[0] == "changed: workflows/quarter_hour_queue_drain.py"
        assert "staging: queue-drain (workflows/quarter_hour_queue_drain.py): BLOCKED on gcp" in round_two
        assert any(line.startswith("  [gcp] schedule-equivalence: workflows/quarter_hour_queue_drain.py:10: ")
                   for line in round_two), round_two
        assert not any("inventory-snapshot" in line for line in round_two)  # only the changed workflow is shown
        edit(drain, 'cron("0 6 * * MON#1"', 'cron("*/15 * * * *"')
        round_three = out.until("staging: PASS", CHANGE_S)
        assert "staging: queue-drain (workflows/quarter_hour_queue_drain.py): passes on every target" in round_three
        proc.send_signal(signal.SIGINT)
        out.until("stopped", 60)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    errors = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors, errors


def test_watch_without_a_base_revision_says_so_once_and_exits_2_like_a_one_shot_preview(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    subprocess.run(["git", "-C", str(root), "branch", "-q", "-m", "main", "trunk"], check=True)  # no main now
    argv = ["preview", "--stack", "staging", "--root", str(root), "--cache-dir", str(tmp_path / "cache")]
    one_shot = subprocess.run([sys.executable, "-c", CLI, str(REPO), *argv], capture_output=True, text=True,
                              timeout=CHANGE_S)
    watched = subprocess.run([sys.executable, "-c", CLI, str(REPO), *argv, "--watch"], capture_output=True,
                             text=True, timeout=FIRST_S, env={**os.environ, "LOCKSTEP_WATCH_INTERVAL": "0.1"})
    assert one_shot.returncode == watched.returncode == 2, (one_shot.stderr, watched.stdout, watched.stderr)
    problem = [line for line in one_shot.stderr.splitlines() if line.startswith("lockstep: no base revision: ")]
    assert len(problem) == 1, one_shot.stderr
    assert watched.stderr.splitlines() == problem, watched.stderr  # said once, in the same words
    assert "watching " not in watched.stdout and "Traceback" not in watched.stderr
