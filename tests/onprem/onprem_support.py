"""Helpers for the on-prem tests: the live host's handle, provider inputs, bounded waits."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.digest import code_digest

KEY_ENV = "LOCKSTEP_TEST_ONPREM_KEY"


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Host:
    """The live test host: how to reach it and how to look at it from the side."""

    port: int
    user: str
    home: Path
    host_key: str
    client_key: Path
    other_host_key: str
    workdir: Path
    keep_cron: Callable[[], None] = lambda: None
    other_port: int = 0  # a second sshd on this machine whose host key is other_host_key

    def cron_wait(self, what: str, check: Callable[[], Any], timeout: float, interval: float = 1) -> Any:
        """Wait for something cron must start, keeping a cron daemon running meanwhile."""
        def checked() -> Any:
            self.keep_cron()
            return check()
        return wait_until(what, checked, timeout, interval)

    def as_user(self, *cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command as the test user (the operator at the host's console)."""
        return subprocess.run(["runuser", "-u", self.user, "--", *cmd], input=stdin, capture_output=True, text=True,
                              timeout=60)

    def crontab(self) -> str:
        """Return the test user's crontab as the cron daemon sees it."""
        proc = subprocess.run(["crontab", "-l", "-u", self.user], capture_output=True, text=True, timeout=30)
        return proc.stdout if proc.returncode == 0 else ""

    def base_dir(self, name: str) -> str:
        """Return a fresh base directory owned by the test user."""
        return str(self.home / "lockstep" / name)


def canonical(name: str, *, expression: str = "* * * * *", timezone: str = "UTC", kind: str = "cron",
              attempts: int = 1, delay_s: int = 1, backoff: str = "fixed", timeout_s: int = 30,
              allow_overlap: bool = False, notify: tuple[str, ...] = ("mailto:ops@example.com",),
              env: dict[str, str] | None = None) -> dict[str, Any]:
    """Return canonical fields shaped like infra.digest.canonical_fields."""
    return {"name": name, "schema": 1, "description": "test", "owner": "onprem-tests",
            "schedule": {"kind": kind, "expression": expression, "timezone": timezone, "start": None, "end": None},
            "function": {"entry": "main.handler", "runtime": "python3.11", "env": env or {}, "secrets": {},
                         "code": ""},
            "retry": {"attempts": attempts, "backoff": backoff, "delay_s": delay_s, "max_delay_s": 60,
                      "max_event_age_s": 3600},
            "timeout_s": timeout_s, "allow_overlap": allow_overlap, "notify": list(notify)}


def bundle(root: Path, code: str, extra: dict[str, bytes] | None = None) -> dict[str, str]:
    """Write a function directory with main.py and return the bundle reference (dir + digest)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.py").write_text(code)
    for rel, data in (extra or {}).items():
        (root / rel).write_bytes(data)
    return {"dir": str(root), "digest": code_digest(root)}


def make_props(host: Host, canon: dict[str, Any], bundle_ref: dict[str, str], *, base_dir: str, epoch: int = 1,
               host_key: str | None = None, port: int | None = None, on_drift: str = "refuse") -> dict[str, Any]:
    """Return provider inputs for the live test host."""
    canon = dict(canon, function=dict(canon["function"], code=bundle_ref["digest"]))
    digest = hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()[:32]
    return {"host": {"name": "test-host", "address": "127.0.0.1", "port": port or host.port, "user": host.user,
                     "host_key": host_key or host.host_key, "scheduler": "cron", "timezone": "Etc/UTC",
                     "base_dir": base_dir},
            "private_key": {"env": KEY_ENV}, "canonical": canon, "digest": digest, "bundle": bundle_ref,
            "memory_mb": 256, "epoch": epoch, "commit": "uncommitted", "on_drift": on_drift,
            "stamps": {"lockstep-workflow": canon["name"], "lockstep-digest": digest, "lockstep-schema": "1",
                       "lockstep-commit": "uncommitted", "lockstep-target": "onprem"}}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Return the JSON lines of a host log, or [] when it does not exist yet."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def b64(text: str) -> str:
    """Return base64 of text (for hand-made stage requests)."""
    return base64.b64encode(text.encode()).decode()
