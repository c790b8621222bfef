"""Discover the systemd timers of a host from its unit files (read over SSH; nothing is started or changed).

Read: every `*.timer` and `*.service` in the deploy user's `~/.config/systemd/user` and in `/etc/systemd/system`,
and which timers are enabled (a link in that directory's `timers.target.wants/`). A timer's schedule is its
`OnCalendar=` (systemd.time(7)), in the zone its suffix names or the host's; what it runs is the `ExecStart=` of its
`Unit=` (default: the service of the same name). Lockstep's own units (`lockstep-<workflow>.timer`) are reported as
managed; monotonic timers (`OnBootSec=`, `OnUnitActiveSec=`, ...) and disabled ones as not workflows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
from collections.abc import Mapping

from infra.schedule import systemd
from infra.schedule.cronfields import NativeSyntaxError
from infra.targets.discovered import Discovered

UNIT_DIRS = ('"$HOME/.config/systemd/user"', "/etc/systemd/system")
MARK = "==> "
LIST = ("for d in " + " ".join(UNIT_DIRS) + "; do "
        'for f in "$d"/*.timer "$d"/*.service; do [ -f "$f" ] || continue; '
        f'printf "{MARK}%s\\n" "$f"; cat "$f"; printf "\\n"; done; '
        f'for f in "$d"/timers.target.wants/*.timer; do [ -e "$f" ] && printf "{MARK}enabled %s\\n" "$f"; done; '
        "done; true")
MONOTONIC = ("OnActiveSec", "OnBootSec", "OnStartupSec", "OnUnitActiveSec", "OnUnitInactiveSec")
OWN_PREFIX = "lockstep-"


def timers(host: str, zone: str, listing: str) -> list[Discovered]:
    """Return one item per timer unit in the listing `LIST` printed."""
    files, enabled = _files(listing)
    found = []
    for path in sorted(p for p in files if p.endswith(".timer")):
        keys = _keys(files[path], "Timer")
        folder, name = posixpath.split(path)
        service = keys.get("Unit", [name.removesuffix(".timer") + ".service"])[-1]
        command = _exec(_keys(files.get(posixpath.join(folder, service), ""), "Service"))
        found.append(_item(host, zone, path, keys, command, f"{folder}/{name}" in enabled))
    return found


def _item(host: str, zone: str, path: str, keys: Mapping[str, list[str]], command: str, on: bool) -> Discovered:
    name = posixpath.basename(path)
    calendars = keys.get("OnCalendar", [])
    expression = calendars[0] if len(calendars) == 1 else " | ".join(calendars)
    item = Discovered("onprem", host, f"{host}:{name}", f"{host}:systemd:{path}", expression, _zone(expression, zone),
                      calls=command, managed=name.removeprefix(OWN_PREFIX).removesuffix(".timer")
                      if name.startswith(OWN_PREFIX) else "",
                      code="cmd:" + hashlib.sha256(command.encode()).hexdigest() if command else "",
                      dialect="systemd")
    why = ""
    if item.managed:
        why = "Lockstep's own timer: the workflow's schedule is in the host manifest (`lockstep drift` reads it)"
    elif not calendars:
        monotonic = [k for k in MONOTONIC if k in keys]
        why = (f"a monotonic timer ({', '.join(monotonic)}), not a calendar schedule" if monotonic else
               "the timer has no OnCalendar=")
    elif len(calendars) > 1:
        why = f"it has {len(calendars)} OnCalendar= lines; a workflow has one schedule"
    elif not on:
        why = "the timer is not enabled (no link in timers.target.wants/)"
    elif not command:
        why = "its service has no ExecStart="
    return dataclasses.replace(item, not_a_workflow=why) if why else item


def _zone(expression: str, host_zone: str) -> str:
    try:
        return systemd.parse(expression).zone or host_zone
    except NativeSyntaxError:
        return host_zone


def _files(listing: str) -> tuple[dict[str, str], set[str]]:
    files: dict[str, list[str]] = {}
    enabled: set[str] = set()
    current: list[str] | None = None
    for line in listing.splitlines():
        if line.startswith(MARK + "enabled "):
            link = line[len(MARK + "enabled "):]
            enabled.add(posixpath.join(posixpath.dirname(posixpath.dirname(link)), posixpath.basename(link)))
            current = None
        elif line.startswith(MARK):
            current = files.setdefault(line[len(MARK):], [])
        elif current is not None:
            current.append(line)
    return {p: "\n".join(lines) for p, lines in files.items()}, enabled


def _keys(text: str, section: str) -> dict[str, list[str]]:
    """Return the `Key=Value` settings of one `[Section]` of a unit file, every value of a repeated key."""
    out: dict[str, list[str]] = {}
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1] == section
        elif inside and "=" in line and not line.startswith(("#", ";")):
            key, value = (part.strip() for part in line.split("=", 1))
            out.setdefault(key, []).append(value)
    return out


def _exec(keys: Mapping[str, list[str]]) -> str:
    """Return a service's command: its last ExecStart=, without systemd's `-@+!:` prefixes."""
    starts = [v for v in keys.get("ExecStart", []) if v]
    return starts[-1].lstrip("-@+!:") if starts else ""
