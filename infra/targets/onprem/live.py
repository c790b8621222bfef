"""Read what each on-prem host runs for a workflow over SSH (manifest, installed schedule, active version).

One SSH session per host and one `read` op per workflow (the provider's own read: host/deploy.py and hostops.py,
unchanged). The manifest is mapped onto the properties of the registered dynamic resource, so the same
`normalize` reads it; a crontab block or unit edited by hand, a stray line running the runner, or an active
version that is not the manifest's are reported through the `installed` property.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.model import StackConfig
from infra.targets.base import Observed
from infra.targets.discovered import Discovered, Discovery
from infra.targets.liveread import LiveRead, NotDeployed, Wanted, read_each
from infra.targets.onprem import timers
from infra.targets.onprem.host import deploy as steps
from infra.targets.onprem.host.crontab import BEGIN, END, line_digest
from infra.targets.onprem.host.props import Props, props_from
from infra.targets.onprem.host.provider import live_view
from infra.targets.onprem.host.ssh import HostConn, OnpremError, SshSession
from infra.targets.onprem.normalize import RESOURCE
from infra.targets.onprem.translate import OnpremDesired

ENV_LINE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*=")  # MAILTO=..., PATH=...: settings, not jobs


def read_live(stack: StackConfig, wanted: Mapping[str, Wanted], connect: Mapping[str, Any]) -> LiveRead:
    """Return the live on-prem state of every wanted workflow (one SSH session per host)."""
    out = LiveRead("onprem")
    sessions: dict[str, SshSession] = {}
    try:
        # One SSH session per host, shared by its workflows' reads: read them one after another.
        read_each(out, wanted, lambda w: _workflow(stack, w, sessions, out, connect), _why, workers=1)
    finally:
        for session in sessions.values():
            session.__exit__(None, None, None)
    return out


def _props(stack: StackConfig, want: Wanted) -> Props:
    d: OnpremDesired = want.desired
    assert stack.onprem is not None
    host = stack.onprem.host(d.host)
    if host is None:
        raise OnpremError(d.host, "read", f"host {d.host!r} is not in stack {stack.name!r}")
    return Props(props_from(d, host, Path("."), 0, "uncommitted", private_key_env=stack.onprem.private_key_env))


def _workflow(stack: StackConfig, want: Wanted, sessions: dict[str, SshSession], out: LiveRead,
              connect: Mapping[str, Any]) -> list[Observed]:
    p = _props(stack, want)
    label = p.conn.label
    if label not in sessions:
        session = SshSession(p.conn, connect_timeout=float(connect.get("connect_timeout", 10.0)))
        sessions[label] = session.__enter__()
    out.calls += 1
    state = steps.read(sessions[label], p)
    manifest = state.get("manifest") or {}
    live = live_view(p, state)
    if live is None:
        raise NotDeployed(f"{want.workflow} is not active on {label} (manifest state "
                          f"{manifest.get('state', 'absent')!r})")
    host = {**p.host, **{k: v for k, v in (manifest.get("host") or {}).items() if v is not None}}
    return [Observed(RESOURCE, want.workflow, {
        "host": host, "canonical": manifest.get("canonical"), "memory_mb": manifest.get("memory_mb"),
        "bundle": {"digest": manifest.get("bundle_digest", "")}, "stamps": manifest.get("stamps", {}),
        "installed": {"drift": live["drift"], "current_ok": live["current_ok"], "lines": live["schedule_lines"],
                      "strays": live["strays"]}})]


def _why(exc: BaseException) -> str | None:
    if isinstance(exc, (OnpremError, OSError)):
        return str(exc)
    return None


def connect_from_env(_env: Mapping[str, str]) -> dict[str, Any]:
    """Return reader options from the environment: none (hosts and keys come from the stack)."""
    return {}


def discover(stack: StackConfig, connect: Mapping[str, Any]) -> Discovery:
    """Return every crontab line of the deploy user and every systemd timer unit on each host (read-only, over
    SSH: `crontab -l`, and the unit files `timers.LIST` prints)."""
    out = Discovery("onprem")
    if stack.onprem is None:
        return out
    for host in stack.onprem.hosts:
        conn = HostConn(host.address, host.port, host.user, host.host_key, {"env": stack.onprem.private_key_env})
        try:
            with SshSession(conn, connect_timeout=float(connect.get("connect_timeout", 10.0))) as session:
                code, text, err = session.run("discover", "crontab -l", timeout=30)
                units = session.run("discover-timers", timers.LIST, timeout=30)
                out.calls += 2
        except (OnpremError, OSError) as exc:
            out.errors.append(f"onprem {host.name}: {exc}")
            continue
        if code != 0 and "no crontab" not in err:
            out.errors.append(f"onprem {host.name}: crontab -l failed: {err.strip()}")
            continue
        out.found.extend(crontab_lines(host.name, host.timezone, text if code == 0 else ""))
        if units[0] != 0:
            out.errors.append(f"onprem {host.name}: listing the systemd timer units failed: {units[2].strip()}")
        out.found.extend(timers.timers(host.name, host.timezone, units[1]))
    return out


def crontab_lines(host: str, zone: str, text: str) -> list[Discovered]:
    """Return the scheduled lines of one crontab: Lockstep's marked blocks as managed, every other line as found."""
    found, block = [], ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith(BEGIN):
            block = line[len(BEGIN):].split()[0]
            continue
        if line.startswith(END):
            block = ""
            continue
        if not line or line.startswith("#") or ENV_LINE.match(line):
            continue
        fields = line.split(None, 5 if not line.startswith("@") else 1)
        expression, command = (" ".join(fields[:5]), fields[5] if len(fields) > 5 else "") \
            if not line.startswith("@") else (fields[0], fields[1] if len(fields) > 1 else "")
        item = Discovered("onprem", host, f"{host}:{number}", f"{host}:crontab:{number}", expression, zone,
                          calls=command, managed=block,
                          code="cmd:" + hashlib.sha256(command.encode()).hexdigest() if command else "",
                          children={"line": line_digest(line)})
        if block:
            item = dataclasses.replace(item, not_a_workflow="Lockstep's runner line: the workflow's schedule is "
                                       "in the host manifest (`lockstep drift` reads it)")
        elif line.startswith("@reboot"):
            item = dataclasses.replace(item, not_a_workflow="it runs at boot, not on a schedule")
        found.append(item)
    return found
