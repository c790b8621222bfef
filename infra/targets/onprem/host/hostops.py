"""Host-side half of every deploy step: one Python process per step, under the workflow's deploy lock.

Sent over SSH as `python3 -c <crontab.py + hostsched.py + this source> <op>` with the request as JSON on stdin, so
a host needs nothing installed but python3 (and cron or systemd). Stdlib only; no package imports on the host.

Every mutating op takes an exclusive flock(2) on .deploy.lock (the lock `flock(1)` takes too), then refuses with
exit code FENCED when the caller's epoch is older than the manifest's. Each op is idempotent and ends in a state a
retry converges from: staging writes a temp directory and renames it into place; activation, holding the per-user
schedule lock as well (hostsched.py), writes its intent (manifest.pending.json) first, switches `current` by renaming
a fresh symlink over it, replaces the workflow's crontab block (switching `current` back if that fails), then renames
the new manifest into place. SIGHUP and SIGPIPE are ignored so a dropped SSH connection does not stop an op half-way;
the op finishes and the retry finds the work done.
"""

import base64
import contextlib
import errno
import json
import os
import shutil
import signal
import sys
import time
from typing import Any

# In the package (tests, type checks) import the sibling modules; on the host their sources are prepended instead.
with contextlib.suppress(ImportError):
    from infra.targets.onprem.host.hostsched import DRIFT as DRIFT
    from infra.targets.onprem.host.hostsched import FENCED as FENCED
    from infra.targets.onprem.host.hostsched import LOCKED as LOCKED
    from infra.targets.onprem.host.hostsched import OK as OK
    from infra.targets.onprem.host.hostsched import OS_ERROR as OS_ERROR
    from infra.targets.onprem.host.hostsched import USAGE as USAGE
    from infra.targets.onprem.host.hostsched import OpError as OpError
    from infra.targets.onprem.host.hostsched import (
        install_schedule,
        live_schedule,
        locked,
        planned_crontab,
        remove_schedule,
        schedule_lock,
        take_over,
    )

FILE_MODE = 0o600  # every file a deploy writes: other local users read nothing (bundle, config, manifest, logs)


def run(op: str, req: dict[str, Any]) -> dict[str, Any]:
    """Run one op and return its JSON-ready result."""
    lay = req["layout"]
    if op == "probe":
        return dict(probe(lay, req.get("offset_at", [])), **secret_problems(lay, list(req.get("secrets", []))))
    if op == "read":
        return read(req, lay)
    ops = {"stage": stage, "activate": activate, "delete": delete}
    if op not in ops:
        raise OpError(USAGE, op, f"unknown op {op!r}")
    _makedirs(op, lay["root"])
    _private(op, lay)
    with locked(op, lay["deploy_lock"], float(req.get("lock_timeout_s", 60))):
        fence(op, req, lay)
        return ops[op](req, lay)


def _private(step: str, lay: dict[str, str]) -> None:
    """Keep the workflow's files to the deploy user: the directory 0700, the log cron appends to 0600."""
    try:
        for path in (os.path.dirname(lay["root"]), lay["root"]):
            os.chmod(path, 0o700)
        os.close(os.open(lay["cron_log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE))
        os.chmod(lay["cron_log"], FILE_MODE)
    except OSError as exc:
        raise _os_error(step, lay["root"], exc) from exc


def secret_problems(lay: dict[str, str], refs: list[str]) -> dict[str, list[str]]:
    """Return the secret references that are missing, unsafe as names, or readable by other users."""
    found: dict[str, list[str]] = {"missing_secrets": [], "unsafe_secrets": [], "exposed_secrets": []}
    folder = lay["secrets_dir"]
    for ref in refs:
        path = os.path.join(folder, ref)
        if "/" in ref or ref.startswith(".") or not ref:
            found["unsafe_secrets"].append(ref)
        elif not os.path.isfile(path):
            found["missing_secrets"].append(ref)
        elif os.stat(path).st_mode & 0o077 or os.stat(folder).st_mode & 0o077:
            found["exposed_secrets"].append(f"{path} (mode {os.stat(path).st_mode & 0o777:03o}, directory "
                                            f"{os.stat(folder).st_mode & 0o777:03o})")
    return found


def probe(lay: dict[str, str], offset_at: list[int]) -> dict[str, Any]:
    """Report what the deployer must know about the host before writing anything (and its offsets at instants)."""
    base = lay["base_dir"]
    parent = base
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    return {"python": sys.executable, "python_version": list(sys.version_info[:3]),
            "crontab": shutil.which("crontab"), "systemctl": shutil.which("systemctl"), "uid": os.getuid(),
            "utc_offset_s": time.localtime().tm_gmtoff,
            "offsets": [[int(t), time.localtime(int(t)).tm_gmtoff] for t in offset_at],
            "tz_name": _host_zone(), "base_exists": os.path.isdir(base), "writable_parent": parent,
            "writable": os.access(parent, os.W_OK | os.X_OK),
            "home": os.path.expanduser("~"), "home_writable": os.access(os.path.expanduser("~"), os.W_OK | os.X_OK),
            "readonly": bool(os.statvfs(parent).f_flag & os.ST_RDONLY)}


def fence(op: str, req: dict[str, Any], lay: dict[str, str]) -> None:
    """Refuse a write whose epoch is older than the highest this host accepted, or equal to it from another
    deployer; record a newer one with its deployer.

    The highest epoch is kept in epoch.json, written under the deploy lock before any other mutation, so a deployer
    that crashed after switching `current` (pending file written, manifest not yet) still fences older ones. The
    manifest's and the pending intent's epochs count too (hosts deployed before epoch.json existed). An equal epoch
    is the same deployer retrying only when the deployer is the same: until epochs come from the rollout's lease,
    everyone deploys at 0, and a stale deploy at 0 must not overwrite a newer one made by someone else at 0.
    """
    caller, who = int(req["epoch"]), str(req.get("deployer") or "")
    held, holder = held_epoch(lay), held_deployer(lay)
    if caller < held:
        raise OpError(FENCED, op, f"deployer epoch {caller} is older than the host's epoch {held} (the highest "
                      "accepted, from epoch.json, the manifest or a pending activation); a newer deployer has "
                      "written this workflow, so this write is refused", host_epoch=held, caller_epoch=caller)
    if caller == held and holder and who != holder:
        raise OpError(FENCED, op, f"epoch {caller} was accepted from deployer {holder!r} and this deploy, by "
                      f"{who!r}, carries the same epoch, so the two cannot be ordered and this write is refused: "
                      f"deploy through the rollout (it passes LOCKSTEP_EPOCH), or set LOCKSTEP_EPOCH above {held} "
                      "on purpose", host_epoch=held, caller_epoch=caller, holder=holder)
    if caller > held or not holder:
        _write_json(op, lay["epoch"], {"epoch": caller, "deployer": who})


def held_epoch(lay: dict[str, str]) -> int:
    """Return the highest epoch recorded on the host: epoch.json, manifest.json, manifest.pending.json."""
    docs = [_load(lay[k]) for k in ("epoch", "manifest", "pending") if k in lay]
    return max([int(d.get("epoch", -1)) for d in docs if d] or [-1])


def held_deployer(lay: dict[str, str]) -> str:
    """Return who wrote the highest epoch ('' when no record names one: hosts deployed before it was kept)."""
    held = held_epoch(lay)
    for key, field in (("epoch", "deployer"), ("pending", "deployed_by"), ("manifest", "deployed_by")):
        doc = _load(lay[key]) if key in lay else None
        if doc and int(doc.get("epoch", -1)) == held and doc.get(field):
            return str(doc[field])
    return ""


def stage(req: dict[str, Any], lay: dict[str, str]) -> dict[str, Any]:
    """Write the version directory from the request's files, unless it is already complete."""
    final = os.path.join(lay["versions"], req["version"])
    if _complete(final, req["version"]):
        return {"staged": False, "path": final}
    _makedirs("stage", lay["versions"])
    tmp = f"{final}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for rel, b64 in sorted(req["files"].items()):
            if rel.startswith("/") or ".." in rel.split("/"):
                raise OpError(USAGE, "stage", f"bundle path {rel!r} escapes the version directory")
            _write("stage", os.path.join(tmp, rel), base64.b64decode(b64), FILE_MODE)
        _write("stage", os.path.join(tmp, ".lockstep", "COMPLETE"), req["version"].encode(), FILE_MODE)
        shutil.rmtree(final, ignore_errors=True)  # an incomplete leftover of an interrupted stage
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"staged": True, "path": final}


def activate(req: dict[str, Any], lay: dict[str, str]) -> dict[str, Any]:
    """Switch `current` to the staged version and install the schedule, under the per-user schedule lock, then
    record the manifest; a failed install puts `current` back, so the previous version really stays active."""
    final = os.path.join(lay["versions"], req["version"])
    if not _complete(final, req["version"]):
        raise OpError(USAGE, "activate", f"version {req['version']} is not staged at {final}; stage it first")
    with schedule_lock("activate", req):
        drift = detect_drift(req, lay, live_schedule(recorded_backend(req, lay), lay))
        if drift and req.get("on_drift", "refuse") != "revert":
            raise OpError(DRIFT, "activate", f"the schedule on the host was changed outside Lockstep "
                          f"({drift['why']}); the change is recorded in drift.jsonl and left in place: adopt it in "
                          "git, or redeploy with on_drift='revert' to overwrite it on purpose", drift=drift)
        if req.get("adopt") and req["backend"] == "systemd":
            raise OpError(USAGE, "activate", "an adopted crontab line is swapped for the workflow's crontab block, "
                          "but this host deploys with systemd: set the host's scheduler to cron in the stack file")
        tables = None if req["backend"] == "systemd" else \
            planned_crontab("activate", lay["workflow"], req["manifest"]["schedule"]["block"], adopt=req.get("adopt"))
        _write_json("activate", lay["pending"], req["manifest"])
        was = os.readlink(lay["current"]) if os.path.islink(lay["current"]) else None
        _switch(lay["current"], os.path.join("versions", req["version"]))
        _fault(req, "after-switch")
        try:
            install_schedule(req, lay, tables)
            take_over(req, lay)
        except BaseException:
            _switch(lay["current"], was)
            _unlink(lay["pending"])
            raise
        _fault(req, "after-schedule")
        _write_json("activate", lay["manifest"], req["manifest"])
        _unlink(lay["pending"])
    pruned = prune(lay, keep={req["version"], str(req.get("previous") or "")})
    return {"activated": req["version"], "drift_reverted": drift, "pruned": pruned}


def _switch(link: str, target: str | None) -> None:
    """Point `link` at target by renaming a fresh symlink over it (never a moment without one); None removes it."""
    if target is None:
        _unlink(link)
        return
    tmp = f"{link}.tmp-{os.getpid()}"
    _unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)  # rename(2) over the old link: `mv -T`


def delete(req: dict[str, Any], lay: dict[str, str]) -> dict[str, Any]:
    """Remove this instance's schedule, then its versions and `current`, keeping a tombstone manifest so the fence
    survives; a directory a replacement (another instance) has taken over is left as it is."""
    with schedule_lock("delete", req):
        remove_schedule(req, lay)
    manifest = _load(lay["manifest"]) or {}
    owner = str(manifest.get("instance") or "")
    if manifest.get("state") == "active" and owner and owner != str(req.get("instance") or ""):
        return {"deleted": False, "kept_for": owner}
    _unlink(lay["current"])
    shutil.rmtree(lay["versions"], ignore_errors=True)
    tomb = {"state": "deleted", "workflow": lay["workflow"], "epoch": int(req["epoch"]),
            "instance": req.get("instance") or "",
            "deleted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _write_json("delete", lay["manifest"], tomb)
    _unlink(lay["pending"])
    return {"deleted": True}


def read(req: dict[str, Any], lay: dict[str, str]) -> dict[str, Any]:
    """Return the live state: manifest, pending intent, `current`, versions and the live schedule."""
    if not os.path.isdir(lay["root"]):
        return {"exists": False}
    current = os.readlink(lay["current"]) if os.path.islink(lay["current"]) else None
    versions = sorted(v for v in os.listdir(lay["versions"]) if ".tmp-" not in v) \
        if os.path.isdir(lay["versions"]) else []
    target = os.path.join(lay["root"], current) if current else ""
    return {"exists": True, "manifest": _load(lay["manifest"]), "pending": _load(lay["pending"]),
            "current": current, "versions": versions, "schedule": live_schedule(req, lay),
            "current_complete": bool(current) and _complete(target, os.path.basename(target))}


def recorded_backend(req: dict[str, Any], lay: dict[str, str]) -> dict[str, Any]:
    """Return the request as seen through the manifest's scheduler: drift is judged where the last deploy installed
    the schedule (a cron -> systemd replacement must compare the crontab block, not the units it has yet to write)."""
    sched = (_load(lay["manifest"]) or {}).get("schedule") or {}
    if sched.get("backend") in (None, req["backend"]):
        return req
    return dict(req, backend=sched["backend"], **{k: sched[k] for k in ("unit_dir", "unit_names") if k in sched})


def detect_drift(req: dict[str, Any], lay: dict[str, str], live: dict[str, Any]) -> dict[str, Any] | None:
    """Compare the live schedule with what the manifest (or a half-done write's intent) says was installed."""
    found = schedule_drift(live, _load(lay["manifest"]), _load(lay["pending"]))
    if found is None:
        return None
    drift = dict(found, at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), seen_by_epoch=int(req["epoch"]))
    with open(lay["drift_log"], "a") as fh:
        fh.write(json.dumps(drift, sort_keys=True) + "\n")
    return drift


def schedule_drift(live: dict[str, Any], manifest: dict[str, Any] | None,
                   pending: dict[str, Any] | None) -> dict[str, Any] | None:
    """Compare the live schedule with what the manifest or a half-done write's intent installed; None if it matches.

    The one drift rule: `activate` (here, on the host) and the provider's `read` (provider.live_view) both use it.
    """
    recorded = [m for m in (manifest, pending) if m and m.get("state") == "active"]
    if not recorded:
        return None
    expected = [installed_form(m["schedule"]) for m in recorded]
    actual = live.get("units") if live.get("backend") == "systemd" else live.get("blocks", [])
    if actual in expected and not live.get("strays"):
        return None
    return {"why": "the installed schedule differs from the manifest" if actual not in expected else
            "a line outside Lockstep's block runs this workflow's runner",
            "expected": expected[0], "live": actual, "strays": live.get("strays", [])}


def installed_form(schedule: dict[str, Any]) -> Any:
    """Return what a manifest's schedule looks like when installed: the unit texts, or a one-block list."""
    return schedule.get("units") if schedule.get("backend") == "systemd" else [schedule.get("block")]


def prune(lay: dict[str, str], keep: set[str]) -> list[str]:
    """Remove versions other than the active and the previous one (kept for a fast rollback)."""
    gone = []
    for name in os.listdir(lay["versions"]):
        if name not in keep:
            shutil.rmtree(os.path.join(lay["versions"], name), ignore_errors=True)
            gone.append(name)
    return sorted(gone)


def _fault(req: dict[str, Any], point: str) -> None:
    # Fault injection for the crash-consistency tests: die here as a killed process would. Deploys never set it.
    if req.get("fault") == point:
        os._exit(70)


def _complete(path: str, version: str) -> bool:
    return _read_text(os.path.join(path, ".lockstep", "COMPLETE")) == version


def _read_text(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _write(step: str, path: str, data: bytes, mode: int) -> None:
    _makedirs(step, os.path.dirname(path))
    try:
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(path, mode)
    except OSError as exc:
        raise _os_error(step, path, exc) from exc


def _write_json(step: str, path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    _write(step, tmp, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode(), FILE_MODE)
    os.replace(tmp, path)


def _makedirs(step: str, path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise _os_error(step, path, exc) from exc


def _os_error(step: str, path: str, exc: OSError) -> OpError:
    name = errno.errorcode.get(exc.errno or 0, "OSERROR")
    return OpError(OS_ERROR, step, f"{exc.strerror or exc} ({name}) at {path}", errno=name, path=path)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _load(path: str) -> dict[str, Any] | None:
    try:
        with open(path) as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


def _host_zone() -> str:
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    try:
        return os.path.realpath("/etc/localtime").split("/zoneinfo/", 1)[1]
    except (IndexError, OSError):
        return "UTC"


def _main() -> int:
    os.umask(0o077)  # directories and files this op creates are the deploy user's alone
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    op = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        result, code = run(op, json.load(sys.stdin)), OK
    except OpError as exc:
        result, code = {"error": str(exc), "step": exc.step, **exc.extra}, exc.code
    except OSError as exc:
        err = _os_error(op, getattr(exc, "filename", None) or "?", exc)
        result, code = {"error": str(err), "step": op, **err.extra}, OS_ERROR
    try:
        sys.stdout.write(json.dumps(result, sort_keys=True, default=str))
        sys.stdout.flush()
    except OSError:
        pass  # the deployer went away; the op is done and its retry will see that
    return code


if __name__ == "__main__":
    sys.exit(_main())
