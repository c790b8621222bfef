"""The host runner as cron starts it (a real process, real process groups and flock), without cron's clock."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from onprem_support import read_jsonl

from infra.targets.onprem.host import runner
from infra.targets.onprem.host.layout import Layout
from infra.targets.onprem.host.manifest import CANONICAL_SOURCE

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3") or "python3"
VERSION = "0123456789abcdef0123456789abcdef"


def install(tmp_path: Path, code: str, **overrides: Any) -> Path:
    """Lay out one version the way a deploy does and return the runner's path."""
    lay = Layout(str(tmp_path / "base"), "runner-test")
    here = Path(lay.version_dir(VERSION)) / ".lockstep"
    (here.parent / "app").mkdir(parents=True)
    here.mkdir()
    (here.parent / "app" / "main.py").write_text(code)
    shutil.copy(runner.__file__, here / "runner.py")
    shutil.copy(Path(runner.__file__).parent / "runkit.py", here / "runkit.py")
    shutil.copy(CANONICAL_SOURCE, here / "canonical.py")
    config: dict[str, Any] = {
              "workflow": "runner-test", "digest": "d" * 32, "entry": "main.handler", "runtime": "python3.11",
              "schedule": {"kind": "cron", "expression": "* * * * *", "timezone": "UTC", "start": None, "end": None},
              "env": {"GREETING": "hi"}, "secrets": {}, "timeout_s": 20, "allow_overlap": False,
              "retry": {"attempts": 1, "backoff": "fixed", "delay_s": 1, "max_delay_s": 60, "max_event_age_s": 3600},
              "notify": [{"kind": "email", "address": "ops@example.com"}], "memory_mb": 256,
              "paths": lay.as_dict(), "log_skips": True}
    for key, value in overrides.items():
        config[key] = dict(config[key], **value) if isinstance(value, dict) and key != "env" else value
    (here / "config.json").write_text(json.dumps(config))
    return here / "runner.py"


def run(path: Path, *args: str, timeout: float = 60) -> int:
    return subprocess.run([PYTHON, str(path), *args], timeout=timeout).returncode


def events(tmp_path: Path, log: str = "runs.jsonl") -> list[dict[str, Any]]:
    return read_jsonl(tmp_path / "base" / "workflows" / "runner-test" / log)


def test_onprem_runner_runs_the_handler_with_env_and_logs_success(tmp_path: Path) -> None:
    code = "import os\ndef handler(event, context):\n    print(os.environ['GREETING'], event['workflow'])\n"
    assert run(install(tmp_path, code)) == 0
    log = events(tmp_path)
    assert [e["event"] for e in log] == ["attempt-succeeded", "succeeded"]
    assert log[0]["output"] == "hi runner-test\n" and log[0]["version"] == VERSION
    assert events(tmp_path, "notify.jsonl") == []


def test_onprem_runner_retries_after_backoff_then_succeeds(tmp_path: Path) -> None:
    code = ("from pathlib import Path\ndef handler(event, context):\n    p = Path('/tmp') / ('runner-retry-' + "
            f"'{tmp_path.name}')\n    if not p.exists():\n        p.touch()\n        raise RuntimeError('first')\n")
    path = install(tmp_path, code, retry={"attempts": 3, "delay_s": 1, "backoff": "fixed"})
    assert run(path) == 0
    log = events(tmp_path)
    assert [e["event"] for e in log] == ["attempt-failed", "attempt-succeeded", "succeeded"]
    gap = dt.datetime.fromisoformat(log[1]["at"]) - dt.datetime.fromisoformat(log[0]["at"])
    assert gap >= dt.timedelta(seconds=1)
    assert events(tmp_path, "notify.jsonl") == []
    (Path("/tmp") / f"runner-retry-{tmp_path.name}").unlink()


def test_onprem_runner_timeout_kills_the_whole_process_group_and_notifies(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    code = ("import subprocess, time\ndef handler(event, context):\n"
            f"    p = subprocess.Popen(['sleep', '300'])\n    open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
            "    time.sleep(300)\n")
    started = time.monotonic()
    assert run(install(tmp_path, code, timeout_s=1)) == 1
    assert time.monotonic() - started < 20
    grandchild = int(pidfile.read_text())
    assert not Path(f"/proc/{grandchild}").exists() or "Z" in Path(f"/proc/{grandchild}/stat").read_text().split()[2]
    assert [e["event"] for e in events(tmp_path)] == ["attempt-timeout", "timeout"]
    notes = events(tmp_path, "notify.jsonl")
    assert len(notes) == 1 and notes[0]["outcome"] == "timeout"
    assert notes[0]["delivered"][0].startswith("mailto:ops@example.com: ")


def test_onprem_runner_final_failure_notifies_once_after_all_attempts(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    raise SystemExit(3)\n",
                   retry={"attempts": 2, "delay_s": 0})
    assert run(path) == 1
    assert [e["event"] for e in events(tmp_path)] == ["attempt-failed", "attempt-failed", "failed"]
    notes = events(tmp_path, "notify.jsonl")
    assert len(notes) == 1 and notes[0]["outcome"] == "failed" and notes[0]["detail"]["exit"] == 3


def test_onprem_runner_skips_when_a_previous_run_holds_the_lock(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    print('ran')\n")
    with open(tmp_path / "base" / "workflows" / "runner-test" / ".run.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run(path) == 0
    log = events(tmp_path)
    assert [e["event"] for e in log] == ["skipped"] and log[0]["reason"].startswith("overlap")


def test_onprem_runner_overlaps_when_the_workflow_allows_it(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    print('ran')\n", allow_overlap=True)
    with open(tmp_path / "base" / "workflows" / "runner-test" / ".run.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert run(path) == 0
    assert [e["event"] for e in events(tmp_path)] == ["attempt-succeeded", "succeeded"]


def test_onprem_runner_guard_fires_only_at_the_canonical_zones_instants(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    pass\n",
                   schedule={"expression": "0 9 * * *", "timezone": "Asia/Tokyo"})
    assert run(path, "--now", "2026-01-05T00:00:30+00:00") == 0  # 09:00 in Tokyo
    assert run(path, "--now", "2026-01-05T09:00:10+00:00") == 0  # 09:00 UTC, 18:00 in Tokyo: not a fire
    log = events(tmp_path)
    assert [e["event"] for e in log] == ["attempt-succeeded", "succeeded", "skipped"]
    assert log[0]["scheduled_time"] == "2026-01-05T00:00:00+00:00"
    assert "is not a fire of '0 9 * * *' in Asia/Tokyo" in log[2]["reason"]


def test_onprem_runner_force_skips_the_guard_for_a_manual_run(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    pass\n", schedule={"expression": "0 9 1 1 *"})
    assert run(path, "--force", "--now", "2026-06-05T12:34:00+00:00") == 0
    assert events(tmp_path)[-1]["event"] == "succeeded"


def test_onprem_runner_webhook_notification_posts_to_the_secret_url(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = install(tmp_path, "def handler(event, context):\n    raise ValueError('boom')\n",
                       notify=[{"kind": "webhook", "secret": "ops-hook"}])
        secrets = tmp_path / "base" / "secrets" / "runner-test"
        secrets.mkdir(parents=True)
        (secrets / "ops-hook").write_text(f"http://127.0.0.1:{server.server_port}/hook\n")
        assert run(path) == 1
    finally:
        server.shutdown()
    assert len(received) == 1 and received[0]["outcome"] == "failed"
    assert events(tmp_path, "notify.jsonl")[0]["delivered"] == ["webhook:secret:ops-hook: HTTP 204"]


@pytest.mark.parametrize(("minute", "fires"), [("2026-01-01T00:15:00+00:00", True),
                                                 ("2026-01-01T00:16:00+00:00", False),
                                                 ("2026-01-01T00:45:00+00:00", True)])
def test_onprem_runner_rate_fires_every_period_from_the_anchor(minute: str, fires: bool) -> None:
    schedule = {"kind": "rate", "expression": "15 minutes", "start": "2025-12-31T23:00:00+00:00"}
    assert runner.rate_fires(schedule, dt.datetime.fromisoformat(minute)) is fires


def test_onprem_runner_backoff_doubles_and_is_capped() -> None:
    retry = {"backoff": "exponential", "delay_s": 10, "max_delay_s": 30}
    assert [runner.backoff(retry, n) for n in (1, 2, 3)] == [10.0, 20.0, 30.0]
    assert runner.backoff(dict(retry, backoff="fixed"), 3) == 10.0
