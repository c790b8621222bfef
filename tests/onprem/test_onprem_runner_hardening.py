"""The runner under the failures an outside review found: a killed runner, a worker that leaves the process group,
a full disk, a late start, a repeated minute, and secret values in handler output or a malformed webhook secret."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from onprem_support import read_jsonl, wait_until
from test_onprem_runner import PYTHON, events, install, run

SECRET = "pa55-Zq8vX-2026-db"
HOOK_TOKEN = "T0KEN-b3arer-xyz"


def _provision(tmp_path: Path, **values: str) -> None:
    folder = tmp_path / "base" / "secrets" / "runner-test"
    folder.mkdir(parents=True, exist_ok=True)
    for ref, value in values.items():
        (folder / ref).write_text(value + "\n")


def _hook_server(received: list[dict[str, Any]]) -> HTTPServer:
    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _everything_written(tmp_path: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in (tmp_path / "base" / "workflows").rglob("*.jsonl"))


def test_onprem_runner_redacts_secret_values_from_logs_notifications_and_webhooks(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    server = _hook_server(received)
    try:
        code = "import os\ndef handler(event, context):\n    print('dsn', os.environ['DB_PASSWORD'])\n    " \
               "raise RuntimeError('login failed for ' + os.environ['DB_PASSWORD'])\n"
        path = install(tmp_path, code, secrets={"DB_PASSWORD": "db-password"},
                       notify=[{"kind": "webhook", "secret": "ops-hook"}, {"kind": "webhook", "secret": "bad-hook"}])
        _provision(tmp_path, **{"db-password": SECRET,
                                "ops-hook": f"http://127.0.0.1:{server.server_port}/hook?token={HOOK_TOKEN}",
                                "bad-hook": f"hooks.example.com/services/{HOOK_TOKEN}"})  # no scheme: malformed
        assert run(path) == 1
    finally:
        server.shutdown()
    written = _everything_written(tmp_path) + json.dumps(received)
    assert "login failed for [redacted]" in written and "dsn [redacted]" in written
    assert SECRET not in written and HOOK_TOKEN not in written
    assert len(received) == 1 and received[0]["outcome"] == "failed"
    delivered = events(tmp_path, "notify.jsonl")[0]["delivered"]
    assert delivered[0] == "webhook:secret:ops-hook: HTTP 204" and delivered[1].startswith("webhook: failed: ")


def test_onprem_runner_killed_mid_run_keeps_the_next_firing_from_starting_a_second_copy(tmp_path: Path) -> None:
    marker = tmp_path / "handler.pid"
    code = f"import os, time\ndef handler(event, context):\n    open({str(marker)!r}, 'w').write(str(os.getpid()))\n" \
           "    time.sleep(30)\n"
    path = install(tmp_path, code, timeout_s=60)
    first = subprocess.Popen([PYTHON, str(path)])
    handler_pid = int(wait_until("the handler to start", lambda: marker.exists() and marker.read_text(), 20))
    first.send_signal(signal.SIGKILL)  # the runner dies (OOM killer, an operator); its handler runs on
    first.wait(timeout=10)
    try:
        assert run(path, "--force") == 0  # the next firing
        skipped = [e for e in events(tmp_path) if e["event"] == "skipped"]
        assert skipped and skipped[0]["reason"].startswith("overlap")
    finally:
        os.kill(handler_pid, signal.SIGKILL)


def test_onprem_runner_timeout_kills_a_worker_that_left_the_process_group(tmp_path: Path) -> None:
    worker = tmp_path / "worker.pid"
    code = ("import os, subprocess, time\ndef handler(event, context):\n"
            "    p = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
            f"    open({str(worker)!r}, 'w').write(str(p.pid))\n    time.sleep(300)\n")
    assert run(install(tmp_path, code, timeout_s=2)) == 1
    pid = int(worker.read_text())
    assert not Path(f"/proc/{pid}").exists() or "sleep" not in Path(f"/proc/{pid}/cmdline").read_text(), \
        "the setsid worker survived the timeout"


def test_onprem_runner_on_a_full_disk_still_notifies_and_leaves_a_record(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    server = _hook_server(received)
    try:
        path = install(tmp_path, "def handler(event, context):\n    print('done')\n",
                       notify=[{"kind": "webhook", "secret": "ops-hook"}],
                       paths={"runs_log": "/dev/full", "notify_spool": "/dev/full"})  # every write: ENOSPC
        _provision(tmp_path, **{"ops-hook": f"http://127.0.0.1:{server.server_port}/hook"})
        proc = subprocess.run([PYTHON, str(path)], capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert proc.returncode == 1
    assert "lockstep: cannot write /dev/full" in proc.stderr and '"event": "succeeded"' in proc.stderr
    assert [r["outcome"] for r in received] == ["record-lost"]


def test_onprem_runner_late_start_still_runs_its_fire_and_a_fire_never_runs_twice(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    pass\n",
                   schedule={"expression": "0 * * * *", "timezone": "UTC"})
    assert run(path, "--now", "2026-03-01T10:01:40+00:00") == 0  # cron's 10:00 start reached the guard at 10:01
    assert run(path, "--now", "2026-03-01T10:02:05+00:00") == 0  # a second start inside the window
    assert run(path, "--now", "2026-03-01T10:01:59+00:00") == 0  # the clock stepped back: 10:01 again
    log = events(tmp_path)
    assert [e["event"] for e in log] == ["attempt-succeeded", "succeeded", "skipped", "skipped"]
    assert log[0]["scheduled_time"] == "2026-03-01T10:00:00+00:00"
    assert read_jsonl(tmp_path / "base" / "workflows" / "runner-test" / "runs.jsonl")[2]["reason"].startswith(
        "2026-03-01T10:02:00+00:00 is not a fire")
