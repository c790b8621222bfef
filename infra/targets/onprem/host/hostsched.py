"""Host-side: one user's schedule (the crontab, or systemd units), read and rewritten under one per-user lock.

The crontab holds every workflow of the host user, whatever their base directories, so the per-workflow deploy lock
cannot serialise its read-modify-write: two deploys (two `pulumi up` processes, or the engine's parallel steps) would
each read the table, add their block and install it, and the last install would drop the other's block. Every
rewrite therefore holds an exclusive flock(2) on `~/.lockstep-schedule.lock` (taken after the workflow's deploy lock,
never before, so the two cannot deadlock), and reads the table back after installing it.

Sent to the host between crontab.py and hostops.py (stdlib only, no `from __future__`: the sources are joined).
"""

import contextlib
import os
import shutil
import subprocess
import time
from typing import Any

with contextlib.suppress(ImportError):
    from infra.targets.onprem.host.crontab import (
        CrontabError,
        block_lines,
        find_blocks,
        replace_block,
        stray_lines,
        without_line,
    )

OK, USAGE, FENCED, DRIFT, OS_ERROR, LOCKED = 0, 2, 3, 4, 5, 6
SCHEDULE_LOCK = "~/.lockstep-schedule.lock"


class OpError(Exception):
    """A refusal or failure the deployer turns into a step-named error."""

    def __init__(self, code: int, step: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.step, self.extra = code, step, extra


class locked:
    """Hold an exclusive flock(2) on a file (the lock `flock(1)` takes too), waiting at most timeout_s."""

    def __init__(self, step: str, path: str, timeout_s: float) -> None:
        self.step, self.path, self.timeout_s = step, os.path.expanduser(path), timeout_s
        self.fd = -1

    def __enter__(self) -> None:
        import fcntl

        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise OpError(OS_ERROR, self.step, f"cannot open the lock {self.path}: {exc.strerror}; give the deploy "
                          "user a writable home directory (the per-user schedule lock lives there)") from exc
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise OpError(LOCKED, self.step, f"{self.path} is held by another deploy for "
                                  f"{self.timeout_s:.0f} s") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)


def schedule_lock(step: str, req: dict[str, Any]) -> locked:
    """Return the per-user lock every read-modify-write of this user's crontab or units holds."""
    return locked(step, SCHEDULE_LOCK, float(req.get("lock_timeout_s", 60)))


def live_schedule(req: dict[str, Any], lay: dict[str, str]) -> dict[str, Any]:
    """Return this workflow's schedule as installed: crontab blocks and strays, or systemd unit texts."""
    if req["backend"] == "systemd":
        units = {name: _read_text(os.path.join(os.path.expanduser(req["unit_dir"]), name))
                 for name in req.get("unit_names", [])}
        return {"backend": "systemd", "units": units}
    text = crontab_read()
    blocks = find_blocks(text, lay["workflow"])
    return {"backend": "cron", "blocks": blocks, "lines": [ln for b in blocks for ln in block_lines(b)],
            "strays": stray_lines(text, lay["runner"])}


def planned_crontab(step: str, workflow: str, block: str | None,
                    only_instance: str | None = None, adopt: dict[str, str] | None = None) -> tuple[str, str]:
    """Return (the table now, the table with this workflow's block replaced); refuse a table with broken markers.

    With `adopt` ({"id", "line"}: the crontab line `lockstep import adopt` recorded, by its digest), the planned
    table also drops that line, so one install swaps it for the block. A line that is gone, or was changed since, is
    refused with nothing changed, unless the block is already there (a retried create after the swap).
    """
    before = crontab_read()
    try:
        after = replace_block(before, workflow, block, only_instance)
    except CrontabError as exc:
        raise OpError(USAGE, step, str(exc)) from None
    if adopt:
        swapped = without_line(after, adopt["line"])
        if swapped is None and not find_blocks(before, workflow):
            raise OpError(DRIFT, step, f"the crontab line {adopt['id']} that `lockstep import adopt` recorded is not "
                          "in the crontab any more (it was changed or removed since); nothing was changed: run "
                          "`lockstep import discover` and adopt it again, or delete the workflow's import record to "
                          "deploy it beside whatever runs now")
        after = after if swapped is None else swapped
    return before, after


def install_schedule(req: dict[str, Any], lay: dict[str, str], tables: tuple[str, str] | None) -> None:
    """Install this workflow's schedule (the planned crontab, or the unit files), then read it back."""
    sched = req["manifest"]["schedule"]
    if req["backend"] == "systemd":
        unit_dir = os.path.expanduser(req["unit_dir"])
        for name, text in sorted(sched["units"].items()):
            _write_unit(os.path.join(unit_dir, name), text)
        _systemctl(req, "daemon-reload")
        _systemctl(req, "enable", "--now", req["timer"])
        return
    assert tables is not None
    crontab_install("activate", *tables)


def remove_schedule(req: dict[str, Any], lay: dict[str, str]) -> None:
    """Remove the block or units this resource instance installed; a replacement's entries and every other line
    stay exactly as they are."""
    if req["backend"] == "systemd":
        _remove_units(req, str(req.get("instance") or ""))
        return
    before, after = planned_crontab("delete", lay["workflow"], None, str(req.get("instance") or ""))
    if after != before:
        crontab_install("delete", before, after)


def take_over(req: dict[str, Any], lay: dict[str, str]) -> None:
    """Remove this workflow's entries in the other scheduler (a cron -> systemd replacement), whoever made them:
    one workflow name runs from one schedule entry per host user."""
    if req["backend"] == "systemd":
        if shutil.which("crontab"):
            before, after = planned_crontab("activate", lay["workflow"], None)
            if after != before:
                crontab_install("activate", before, after)
        return
    plan = req.get("systemd_plan") or {}
    if plan and any(os.path.exists(os.path.join(os.path.expanduser(plan["unit_dir"]), n)) for n in plan["unit_names"]):
        _remove_units(dict(plan, backend="systemd"), None)


def _remove_units(plan: dict[str, Any], instance: str | None) -> None:
    """Disable and remove the workflow's units (only those stamped with `instance`, unless it is None)."""
    paths = [os.path.join(os.path.expanduser(plan["unit_dir"]), n) for n in plan.get("unit_names", [])]
    ours = [p for p in paths if os.path.exists(p) and (instance is None or _unit_instance(p) == instance)]
    if not ours:
        return
    if shutil.which("systemctl"):
        _systemctl(plan, "disable", "--now", plan["timer"], check=False)
    for path in ours:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    if shutil.which("systemctl"):
        _systemctl(plan, "daemon-reload")


def _unit_instance(path: str) -> str:
    for word in (_read_text(path) or "").split("\n", 1)[0].split():
        if word.startswith("lockstep-instance="):
            return word[len("lockstep-instance="):]
    return ""


def crontab_read() -> str:
    """Return the user's crontab ('' when there is none)."""
    proc = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    if proc.returncode != 0:
        if "no crontab" in proc.stderr:
            return ""
        raise OpError(OS_ERROR, "crontab", f"crontab -l failed: {proc.stderr.strip()}")
    return proc.stdout


def crontab_install(step: str, before: str, text: str) -> None:
    """Install a table and read it back; on any difference put `before` back and raise (nothing changed)."""
    proc = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise OpError(OS_ERROR, step, f"crontab - refused the new table: {proc.stderr.strip() or 'no reason given'}")
    after = crontab_read()
    if after != text:
        subprocess.run(["crontab", "-"], input=before, capture_output=True, text=True)
        raise OpError(OS_ERROR, step, "the crontab read back after installing differs from the table written "
                      "(something outside Lockstep rewrote it at the same moment); the previous table was put back")


def _write_unit(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    if _read_text(path) != text:
        raise OpError(OS_ERROR, "activate", f"{path} read back differs from the unit written")


def _systemctl(req: dict[str, Any], *args: str, check: bool = True) -> None:
    cmd = ["systemctl", *(["--user"] if req.get("user_mode") else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise OpError(OS_ERROR, "systemd", f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


def _read_text(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None
