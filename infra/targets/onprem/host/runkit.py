"""Helpers the on-prem runner ships beside itself (stdlib only): redaction of secret values, the last-fire record,
descendant tracking for the timeout, and log writes that survive a full disk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"


def last_fire(paths: dict[str, str]) -> dt.datetime | None:
    """Return the newest fire minute a start has served, or None."""
    try:
        return dt.datetime.fromisoformat(json.loads(Path(fire_file(paths)).read_text())["minute"])
    except (OSError, ValueError, KeyError):
        return None


def write_last_fire(paths: dict[str, str], minute: dt.datetime) -> None:
    """Record the fire minute this start serves (before the handler runs, so a crash never serves it twice)."""
    tmp = fire_file(paths) + f".tmp-{os.getpid()}"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write(json.dumps({"minute": minute.isoformat()}))
    os.replace(tmp, fire_file(paths))


def fire_file(paths: dict[str, str]) -> str:
    """Return the path of last_fire.json."""
    return str(Path(paths["run_lock"]).parent / "last_fire.json")


def redactor(config: dict[str, Any]) -> Any:
    """Return a function that replaces every secret value this workflow can read (function secrets, webhook
    URLs) in a string or JSON-like value: handler output and error texts reach logs, e-mails and webhooks."""
    refs = list(config.get("secrets", {}).values()) + [t["secret"] for t in config.get("notify", [])
                                                       if t.get("kind") == "webhook"]
    values: set[str] = set()
    for ref in refs:
        try:
            value = secret(config["paths"], ref).strip()
        except RuntimeError:
            continue
        if len(value) >= 4:
            values.update({value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)})
    ordered = sorted(values, key=len, reverse=True)

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            for secret in ordered:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        return value

    return redact


def become_subreaper() -> None:
    """Make orphaned descendants children of this process (Linux), so the timeout can still find them."""
    try:  # Linux PR_SET_CHILD_SUBREAPER: orphaned descendants are re-parented to this runner, not to init
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def descendants(pid: int) -> list[int]:
    """Return every process below pid (from /proc), whatever its session or process group."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def secret(paths: dict[str, str], ref: str) -> str:
    """Return a secret's value from the workflow's own secret directory; refuse a name that leaves it."""
    if "/" in ref or ref.startswith(".") or not ref:
        raise RuntimeError(f"secret name {ref!r} would reach outside {paths['secrets_dir']}")
    path = Path(paths["secrets_dir"]) / ref
    try:
        return path.read_text().rstrip("\n")
    except OSError as exc:
        raise RuntimeError(f"secret {ref!r} is not provisioned at {path}") from exc


def append(path: str, record: dict[str, Any]) -> bool:
    """Append one JSON line; on failure (ENOSPC, EROFS) send it to syslog and stderr and return False."""
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    # One write of one line on an O_APPEND descriptor: concurrent runners never interleave inside a line.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if os.write(fd, line.encode()) != len(line.encode()):
                raise OSError("short write")
        finally:
            os.close(fd)
        return True
    except OSError as exc:
        message = f"lockstep: cannot write {path} ({exc}); the record: {line.strip()}"
        with contextlib.suppress(Exception):
            import syslog

            syslog.syslog(syslog.LOG_ERR, message)
        with contextlib.suppress(Exception):
            sys.stderr.write(message + "\n")
        return False


def same(value: Any) -> Any:
    """Return value unchanged (no secrets to redact)."""
    return value
