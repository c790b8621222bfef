"""The on-prem runner: what the crontab line (or systemd service) starts. Stdlib only; installed per version.

    python3 <workflow>/current/.lockstep/runner.py [--now ISO] [--force]

It reads config.json beside itself and, in order:
1. time-zone guard: exits unless `canonical.fires_at_minute(expression, timezone, utc_minute)` (canonical.py is
   shipped beside this file) or, for a rate, the minute holds a fire counted from the anchor; start/end bound both;
2. concurrency: when overlap is not allowed, takes a non-blocking flock on .run.lock and exits if a run holds it;
3. runs the handler in its own process group, `attempts` times at most, with exponential or fixed backoff capped
   at max_delay_s, each attempt killed (the whole group) after timeout_s, and no attempt started after
   max_event_age_s from the scheduled minute;
4. on final failure notifies: always a JSON line in notify.jsonl (the spool operators and tests read), e-mail via
   sendmail when present, webhook via HTTP POST to the URL held in the secret store.
Every decision is one JSON line in runs.jsonl.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

HERE = Path(os.path.realpath(__file__)).parent
UTC = dt.timezone.utc  # noqa: UP017 - hosts may run Python 3.9 or 3.10, which lack datetime.UTC
KILL_GRACE_S = 5.0
LATE_MINUTES = 3  # a start up to three minutes after its fire minute still runs that fire
BOOT = (
    "import inspect, json, sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "mod = __import__(sys.argv[2], fromlist=['_'])\n"
    "fn = getattr(mod, sys.argv[3])\n"
    "event = json.load(sys.stdin)\n"
    "fn(event, None) if len(inspect.signature(fn).parameters) >= 2 else fn(event)\n"
)


def main(argv: list[str] | None = None) -> int:
    """Run one scheduled invocation and return the process exit code."""
    args = _parse(argv)
    config: dict[str, Any] = json.loads((HERE / "config.json").read_text())
    config.setdefault("version", HERE.parent.name)  # the content digest names the directory, not the config
    config["redact"] = _kit().redactor(config)
    paths: dict[str, str] = config["paths"]
    now = dt.datetime.fromisoformat(args.now).astimezone(UTC) if args.now else dt.datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0)
    if not args.force:
        try:
            minute, reason = due_minute(config, minute)
        except Exception as exc:  # a broken guard must be loud, never a silent skip or a silent run
            detail = {"why": f"time-zone guard failed: {type(exc).__name__}: {exc}"}
            RunLog(config, minute).write("guard-error", **detail)
            notify(config, minute, "guard-error", detail)
            return 2
        if reason:
            if config.get("log_skips", True):
                RunLog(config, minute).write("skipped", reason=reason)
            return 0
    log = RunLog(config, minute)
    _kit().become_subreaper()  # workers a handler starts in a new session stay ours to kill at the timeout
    with _overlap_lock(paths["run_lock"], bool(config["allow_overlap"])) as held:
        if not held:
            log.write("skipped", reason="overlap: a previous run still holds the run lock")
            return 0
        outcome, detail = run_attempts(config, minute, log, held)
    log.write(outcome, **detail)
    if outcome != "succeeded" or log.lost:
        notify(config, minute, outcome if outcome != "succeeded" else "record-lost",
               detail if outcome != "succeeded" else {"why": f"{log.lost} run record(s) could not be written"})
        return 1
    return 0


def due_minute(config: dict[str, Any], minute: dt.datetime) -> tuple[dt.datetime, str | None]:
    """Return the fire minute this start serves and None, or the minute and why nothing is due.

    A start reached late (a loaded host, cron catching up after a stall) still serves the newest canonical fire of
    the last LATE_MINUTES minutes; a fire already served (a clock stepped back, a repeated wall-clock minute, a
    second start for one slot) is never served twice: last_fire.json, written under a lock before the handler
    starts, holds the newest fire served.
    """
    schedule, paths, kit = config["schedule"], config["paths"], _kit()
    with open(kit.fire_file(paths) + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held for a file read and write, never during a run
        last = kit.last_fire(paths)
        for back in range(LATE_MINUTES + 1):
            slot = minute - dt.timedelta(minutes=back)
            if last is not None and slot <= last:
                break
            if guard(schedule, slot) is None:
                kit.write_last_fire(paths, slot)
                return slot, None
    reason = guard(schedule, minute)
    return minute, reason or f"the fire of {minute.isoformat()} was already served (last_fire.json)"


def guard(schedule: dict[str, Any], minute: dt.datetime) -> str | None:
    """Return why this UTC minute is not a canonical fire, or None when the run should go ahead."""
    start, end = schedule.get("start"), schedule.get("end")
    # The run's instant is the minute cron started it in; canonical admits instant >= start, so a start inside a
    # minute (02:00:30) admits 02:01, not 02:00.
    if start and minute < dt.datetime.fromisoformat(start):
        return f"before schedule start {start}"
    if end and minute >= dt.datetime.fromisoformat(end):
        return f"at or after schedule end {end}"
    if schedule["kind"] == "rate":
        return None if rate_fires(schedule, minute) else "not a fire minute of the rate"
    if _canonical().fires_at_minute(schedule["expression"], schedule["timezone"], minute):
        return None
    return f"{minute.isoformat()} is not a fire of {schedule['expression']!r} in {schedule['timezone']}"


def rate_fires(schedule: dict[str, Any], minute: dt.datetime) -> bool:
    """Tell whether a fire of the rate (every N seconds from its anchor) falls inside this UTC minute."""
    period = int(_canonical().parse_rate(schedule["expression"]))
    anchor = dt.datetime.fromisoformat(schedule["start"]) if schedule.get("start") else dt.datetime(1970, 1, 1,
                                                                                                    tzinfo=UTC)
    since = (minute - anchor).total_seconds()
    # The first fire at or after the minute's start must land before the minute ends.
    return (-since) % period < 60


def _kit() -> Any:
    """Import runkit.py, shipped beside this file on the host."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    try:
        import runkit  # type: ignore[import-not-found]
    except ImportError:  # imported from the package (tests, the deployer), not from a version directory
        from infra.targets.onprem.host import runkit
    return runkit


def _canonical() -> Any:
    """Import canonical.py, shipped beside this file on the host (the one definition of fires and rate units)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    try:
        import canonical  # type: ignore[import-not-found]
    except ImportError:  # imported from the package (tests, the deployer), not from a version directory
        from infra.schedule import canonical
    return canonical


def run_attempts(config: dict[str, Any], minute: dt.datetime, log: RunLog,
                 lock: Any = True) -> tuple[str, dict[str, Any]]:
    """Try the handler up to `attempts` times; return the outcome and its detail."""
    retry: dict[str, Any] = config["retry"]
    attempts = max(1, int(retry["attempts"]))
    outcome, detail = "failed", dict[str, Any]()
    for attempt in range(1, attempts + 1):
        age = (dt.datetime.now(UTC) - minute).total_seconds()
        if attempt > 1 and age > int(retry["max_event_age_s"]):
            return "expired", {"attempt": attempt - 1, "why": f"event older than {retry['max_event_age_s']} s"}
        outcome, detail = run_once(config, minute, lock)
        detail["attempt"] = attempt
        log.write(f"attempt-{outcome}", **detail)
        if outcome == "succeeded":
            return outcome, detail
        if attempt < attempts:
            time.sleep(backoff(retry, attempt))
    return outcome, detail


def backoff(retry: dict[str, Any], attempt: int) -> float:
    """Return the wait after a failed attempt: delay_s, doubled per attempt when exponential, capped."""
    delay = float(retry["delay_s"])
    if retry.get("backoff", "exponential") == "exponential":
        delay *= 2 ** (attempt - 1)
    return min(delay, float(retry["max_delay_s"]))


def run_once(config: dict[str, Any], minute: dt.datetime, lock: Any = True) -> tuple[str, dict[str, Any]]:
    """Run the handler once in its own process group; kill the group (and every descendant) at the timeout.

    The handler inherits the run lock's descriptor: if the runner itself is killed, the lock stays held until the
    handler (and whatever it started) is gone, so the next firing still sees a run in progress.
    """
    paths = config["paths"]
    module, _, handler = config["entry"].rpartition(".")
    cmd = [sys.executable, "-c", BOOT, str(HERE.parent / "app"), module, handler]
    event = json.dumps({"workflow": config["workflow"], "scheduled_time": minute.isoformat(),
                        "version": config["version"]})
    started = time.monotonic()
    try:
        env = _env(config, paths)
    except RuntimeError as exc:  # a secret went missing after deploy: a failed attempt that notifies, not a crash
        return "failed", {"why": str(exc), "seconds": 0.0}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=str(HERE.parent / "app"), env=env, start_new_session=True,
                            pass_fds=(lock,) if isinstance(lock, int) and not isinstance(lock, bool) else (),
                            preexec_fn=_limit_memory(config.get("memory_mb")))
    try:
        out, _ = proc.communicate(event.encode(), timeout=float(config["timeout_s"]))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return "timeout", {"why": f"exceeded timeout_s={config['timeout_s']}", "pid": proc.pid,
                           "seconds": round(time.monotonic() - started, 3)}
    detail = {"exit": proc.returncode, "seconds": round(time.monotonic() - started, 3),
              "output": config.get("redact", _kit().same)(out.decode(errors="replace"))[-2000:]}
    return ("succeeded" if proc.returncode == 0 else "failed"), detail


def notify(config: dict[str, Any], minute: dt.datetime, outcome: str, detail: dict[str, Any]) -> None:
    """Report a final failure to every notification target; the spool line is always written."""
    paths, redact = config["paths"], config.get("redact", _kit().same)
    message = redact({"workflow": config["workflow"], "version": config["version"],
                      "scheduled_time": minute.isoformat(), "outcome": outcome, "detail": detail,
                      "at": dt.datetime.now(UTC).isoformat()})
    delivered = []
    for target in config.get("notify", []):
        try:
            delivered.append(_deliver(target, message, paths))
        except Exception as exc:  # one broken channel must not hide the others
            delivered.append(redact(f"{target.get('kind')}: failed: {type(exc).__name__}: {exc}"))
    _kit().append(paths["notify_spool"], dict(message, delivered=delivered))


def _deliver(target: dict[str, Any], message: dict[str, Any], paths: dict[str, str]) -> str:
    body = json.dumps(message).encode()
    if target["kind"] == "email":
        sendmail = shutil.which("sendmail") or ("/usr/sbin/sendmail" if os.path.exists("/usr/sbin/sendmail")
                                                else None)
        if sendmail is None:
            return f"mailto:{target['address']}: no sendmail on host; spooled only"
        mail = (f"To: {target['address']}\nSubject: lockstep: {message['workflow']} {message['outcome']}\n\n"
                f"{json.dumps(message, indent=2)}\n")
        subprocess.run([sendmail, "-t"], input=mail.encode(), check=True, timeout=30)
        return f"mailto:{target['address']}: sent"
    if target["kind"] == "webhook":
        url = _kit().secret(paths, target["secret"]).strip()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:  # the URL is the operator's own webhook
            return f"webhook:secret:{target['secret']}: HTTP {resp.status}"
    return f"{target['kind']}: unknown notification kind; spooled only"


class RunLog:
    """Append one JSON line per decision to runs.jsonl; a line that cannot be written (a full disk) goes to syslog
    and stderr instead, and is counted so the run notifies."""

    def __init__(self, config: dict[str, Any], minute: dt.datetime) -> None:
        self.path, self.redact, self.lost = config["paths"]["runs_log"], config.get("redact", _kit().same), 0
        self.base = {"workflow": config["workflow"], "version": config["version"],
                     "scheduled_time": minute.isoformat(), "pid": os.getpid()}

    def write(self, event: str, **detail: Any) -> None:
        """Append one event."""
        if not _kit().append(self.path, self.redact(dict(self.base, event=event, at=dt.datetime.now(UTC).isoformat(),
                                                   **detail))):
            self.lost += 1


class _overlap_lock:  # a context manager; lower case reads like one at the call site
    def __init__(self, path: str, allow_overlap: bool) -> None:
        self.path, self.allow = path, allow_overlap
        self.handle: IO[str] | None = None

    def __enter__(self) -> Any:
        """Return the held lock's descriptor (True when overlap is allowed), or False when a run holds it."""
        if self.allow:
            return True
        self.handle = open(self.path, "a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False
        return self.handle.fileno()

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()


def _env(config: dict[str, Any], paths: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "USER", "LOGNAME")}
    env.update({str(k): str(v) for k, v in config.get("env", {}).items()})
    for name, ref in config.get("secrets", {}).items():
        env[name] = _kit().secret(paths, ref)
    env["LOCKSTEP_WORKFLOW"] = config["workflow"]
    return env


def _limit_memory(memory_mb: object) -> Any:
    if not isinstance(memory_mb, int) or memory_mb <= 0:
        return None

    def limit() -> None:
        import resource
        # Address space, not RSS: the only limit an unprivileged process can set; headroom for the interpreter.
        cap = (memory_mb + 256) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return limit


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    strays = _kit().descendants(os.getpid())
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    for pid in strays + _kit().descendants(os.getpid()):  # workers that left the group (setsid) are still descendants
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    while True:  # reap them: as subreaper the runner is their parent now
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    if proc.stdout is not None:
        proc.stdout.close()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run one scheduled invocation of a Lockstep workflow.")
    parser.add_argument("--now", help="pretend the current time is this ISO instant (tests, replays)")
    parser.add_argument("--force", action="store_true", help="skip the time-zone guard (a manual run)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
