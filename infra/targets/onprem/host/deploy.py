"""The deploy steps over SSH: probe, stage, activate (and read, delete), each one re-entrant.

A step is one remote process (hostops.py) under the workflow's deploy lock. A crash or a dropped connection
between or inside steps leaves the previous version active or the new one fully active; re-running the same
deploy converges to exactly one schedule entry and one active bundle.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from infra.schedule.hostform import HostFormError
from infra.schedule.tzmap import zone_map
from infra.targets.onprem.host import hostops
from infra.targets.onprem.host.layout import UnsafeValue
from infra.targets.onprem.host.manifest import BundleChanged, build_plan, deployer_identity
from infra.targets.onprem.host.props import Props
from infra.targets.onprem.host.ssh import DriftRefused, FencedError, OnpremError, SshSession

HERE = Path(__file__).resolve().parent
StepHook = Callable[[str, SshSession], None]
MIN_PYTHON = (3, 9)


def host_script() -> str:
    """Return the host-side script: the sources of crontab, hostsched and hostops, joined (all stdlib only)."""
    return "\n\n".join((HERE / f"{name}.py").read_text() for name in ("crontab", "hostsched", "hostops"))


def remote(session: SshSession, step: str, op: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run one hostops op on the host and return its result; a refusal or failure names host and step."""
    command = f"python3 -c {shlex.quote(host_script())} {shlex.quote(op)}"
    code, out, err = session.run(step, command, json.dumps(request).encode())
    try:
        result: dict[str, Any] = json.loads(out) if out.strip() else {}
    except json.JSONDecodeError:
        result = {}
    label = session.conn.label
    if code == hostops.OK and "error" not in result:
        return result
    message = str(result.get("error") or err.strip() or f"exited with status {code}")
    if code == hostops.FENCED:
        raise FencedError(label, step, f"refused: {message}")
    if code == hostops.DRIFT:
        raise DriftRefused(label, step, message)
    if code == 127 or "python3: not found" in err:
        raise OnpremError(label, step, "python3 is not installed on the host; install it (apt-get install python3)")
    hint = "; the previous version stays active" if step in ("stage", "activate") else ""
    raise OnpremError(label, step, f"{message}{hint}")


def base_request(props: Props, backend_detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the fields every op needs: paths, epoch and how the schedule is installed."""
    from infra.targets.onprem.host import systemd

    plan = systemd.unit_plan(props.name, root_user=props.host["user"] == "root")
    units = {"unit_dir": plan.unit_dir, "user_mode": plan.user_mode, "timer": plan.timer, "unit_names": plan.names}
    req: dict[str, Any] = {"layout": props.layout.as_dict(), "epoch": props.epoch, "deployer": deployer_identity(),
                           "instance": props.instance, "backend": props.host["scheduler"],
                           "on_drift": props.raw.get("on_drift", "refuse"), "systemd_plan": units}
    if props.host["scheduler"] == "systemd":
        req.update(units)
    req.update(backend_detail or {})
    return req


def probe(session: SshSession, props: Props) -> dict[str, Any]:
    """Check the host can run what we install, and that its zone is the one stack config names."""
    label, h = session.conn.label, props.host
    instants = zone_probe_instants(str(h["timezone"]))
    info = remote(session, "probe", "probe", dict(base_request(props), secrets=secret_refs(props),
                                                  offset_at=instants))
    if tuple(info.get("python_version", (0,))) < MIN_PYTHON:
        raise OnpremError(label, "probe", f"python3 on the host is {info.get('python_version')}; the runner "
                          f"needs {'.'.join(map(str, MIN_PYTHON))} or newer")
    if h["scheduler"] == "cron" and not info.get("crontab"):
        raise OnpremError(label, "probe", "crontab is not installed on the host; install cron or set "
                          "scheduler: systemd")
    wrong = zone_mismatch(str(h["timezone"]), info.get("offsets") or [[int(dt.datetime.now(dt.UTC).timestamp()),
                                                                      info["utc_offset_s"]]])
    if wrong:
        raise OnpremError(label, "probe", f"the host's zone is {info['tz_name']} but stack config says timezone "
                          f"{h['timezone']!r}: {wrong}; the crontab line would fire at the wrong minutes: fix "
                          "timezone in the stack config (or the host's zone)")
    if info.get("readonly"):
        raise OnpremError(label, "probe", f"{info['writable_parent']} is on a read-only file system; nothing was "
                          "written and the previous version stays active: remount it read-write or move base_dir")
    if not info.get("writable"):
        raise OnpremError(label, "probe", f"permission denied: user {session.conn.user!r} cannot create or write "
                          f"{props.layout.base_dir} (nearest existing directory {info['writable_parent']}); "
                          "give the deploy user that directory")
    if not info.get("home_writable", True):
        raise OnpremError(label, "probe", f"the home directory {info.get('home')} of user {session.conn.user!r} is "
                          "missing or not writable; the per-user schedule lock lives there: give the user a home")
    if info.get("unsafe_secrets"):
        raise OnpremError(label, "probe", f"secret reference(s) {', '.join(map(repr, info['unsafe_secrets']))} "
                          f"would reach outside {props.layout.secrets_dir}; name each with letters, digits, '.', "
                          "'_' and '-' only")
    if info.get("exposed_secrets"):
        raise OnpremError(label, "probe", f"secret file(s) {', '.join(info['exposed_secrets'])} can be read by "
                          f"other users of the host; run chmod 700 {props.layout.secrets_dir} and chmod 600 on each "
                          "file (each workflow's secrets are its own)")
    if info.get("missing_secrets"):
        raise OnpremError(label, "probe", f"secret(s) {', '.join(info['missing_secrets'])} are not provisioned in "
                          f"{props.layout.secrets_dir}; provision each as a file readable by {session.conn.user!r} "
                          "(mode 0600) out of band: Lockstep never carries secret values")
    return info


def zone_probe_instants(tz: str, now: dt.datetime | None = None) -> list[int]:
    """Return instants at which the host's offsets must equal the zone's: now, monthly for a year, and either side
    of each of the zone's transitions in the next two years (a UTC host passes a London check all winter)."""
    at = int((now or dt.datetime.now(dt.UTC)).timestamp())
    instants = {at + k * 30 * 86400 for k in range(13)}
    for trans in zone_map(tz).transitions(at, at + 2 * 366 * 86400):
        instants.update((trans.at - 3600, trans.at + 3600))
    return sorted(instants)


def zone_mismatch(tz: str, offsets: list[list[int]]) -> str | None:
    """Return where the host's offsets ([instant, seconds] pairs) differ from the zone's, or None if they agree."""
    zone = ZoneInfo(tz)
    for instant, seconds in offsets:
        expected = dt.datetime.fromtimestamp(instant, dt.UTC).astimezone(zone).utcoffset()
        want = int(expected.total_seconds()) if expected is not None else 0
        if want != int(seconds):
            when = dt.datetime.fromtimestamp(instant, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return f"at {when} the host's UTC offset is {int(seconds)} s, {tz}'s is {want} s"
    return None


def secret_refs(props: Props) -> list[str]:
    """Return the secret references the runner will read on the host: function secrets and webhook URLs."""
    canon = props.raw["canonical"]
    refs = set(canon["function"].get("secrets", {}).values())
    refs.update(n[len("webhook:secret:"):] for n in canon.get("notify", []) if n.startswith("webhook:secret:"))
    return sorted(refs)


def deploy(session: SshSession, props: Props, previous: str | None = None,
           hook: StepHook | None = None, fault: str | None = None, adopt: bool = False) -> dict[str, Any]:
    """Deploy one workflow: probe, stage the version, activate it; return the host's manifest.

    With `adopt` (the resource's create), the crontab line the inputs' `adopt` names is swapped for the block.

    `fault` ("after-switch", "after-schedule") makes the host-side activation die at that point; tests use it to
    prove that a crash half-way is converged by the next run.
    """
    info = probe(session, props)
    _after(hook, "probe", session)
    try:
        plan = build_plan(props, str(info["python"]))
    except (BundleChanged, UnsafeValue, HostFormError) as exc:
        raise OnpremError(session.conn.label, "plan", str(exc)) from exc
    remote(session, "stage", "stage", dict(base_request(props), version=plan.version, files=plan.files))
    _after(hook, "stage", session)
    remote(session, "activate", "activate", dict(base_request(props), version=plan.version, manifest=plan.manifest,
                                                 previous=previous, fault=fault,
                                                 adopt=props.raw.get("adopt") if adopt else None))
    _after(hook, "activate", session)
    return plan.manifest


def read(session: SshSession, props: Props) -> dict[str, Any]:
    """Return the host's live state of one workflow (manifest, current, versions, schedule as installed)."""
    return remote(session, "read", "read", base_request(props))


def delete(session: SshSession, props: Props) -> dict[str, Any]:
    """Remove the workflow's schedule and versions, keeping a tombstone manifest that holds the fence."""
    return remote(session, "delete", "delete", base_request(props))


def _after(hook: StepHook | None, step: str, session: SshSession) -> None:
    if hook is not None:
        hook(step, session)
