"""The on-prem native form: the one schedule a cron or systemd host is given, and the guard that filters it.

`host_form` is the only place this form is computed: `translate` (and so equivalence, explain and fidelity) and
the on-prem manifest (`infra.targets.onprem.host.manifest.schedule_entry`, what is installed on the host) both call it.

Rules (each implemented below):
* The host scheduler starts the runner on a *superset* of the canonical fire minutes, at every hour of every day;
  the runner's guard (`guard` below, read by runner.py) keeps only canonical instants: `fires_at_minute` for
  cron schedules, "a fire counted from the anchor falls in this minute" for rates, and start <= t < end for both.
* Debian cron has no CRON_TZ and reads every line in the host zone: the line is `<minutes> * * * *` with minutes
  computed for the host zone.
* systemd: `OnCalendar=*-*-* *:<minutes>:00 UTC`, minutes computed for UTC. A host-zone timer would lose the
  repeated hour of an hourly timer when clocks fall back (systemd bug #8647); UTC has no transitions.
* Superset minutes: a canonical fire at UTC minute u has canonical wall minute (u + oc) mod 60 in the expression's
  minute set, for an offset oc the canonical zone uses (a point-in-time fire moved out of a DST gap uses the
  pre-transition offset, also one of them). Its host wall minute is (u + oh) mod 60 for a host offset oh, so
  {(m - oc + oh) mod 60} over the minute set and every pair of offsets covers every fire. Offsets are sampled
  hourly from 1 year back to 3 years ahead; a zone whose rules change later needs a redeploy.
* A rate starts the runner every minute; a rate whose anchor (start) is not on a whole minute is refused, since
  cron and systemd start on minutes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from infra.schedule import canonical
from infra.schedule.tzmap import zone_map

HORIZON_DAYS_BACK = 366
HORIZON_DAYS_AHEAD = 3 * 366
SCHEDULERS = ("cron", "systemd")


class HostFormError(ValueError):
    """A schedule the on-prem host form cannot carry; the message says why and what to do."""


@dataclass(frozen=True)
class HostForm:
    """What an on-prem host is given: the scheduler's expression, its zone, and the runner's guard."""

    scheduler: str
    expression: str  # crontab time fields, or an OnCalendar expression
    timezone: str  # the zone the scheduler evaluates `expression` in
    minute_field: str
    guard: dict[str, str | None] = field(default_factory=dict)  # runner.py's config["schedule"]
    settings: dict[str, str] = field(default_factory=dict)  # scheduler settings (systemd timer options)


def host_form(kind: str, expression: str, timezone: str, start: str | None, end: str | None, scheduler: str,
              host_tz: str, now: dt.datetime | None = None) -> HostForm:
    """Return the on-prem form of a canonical schedule (start/end as ISO text) on a cron or systemd host."""
    if scheduler not in SCHEDULERS:
        raise HostFormError(f"scheduler {scheduler!r} must be one of {', '.join(SCHEDULERS)}")
    if kind == "rate" and start and dt.datetime.fromisoformat(start).timestamp() % 60:
        raise HostFormError(f"the rate {expression!r} is anchored at {start}, not on a whole minute, and cron and "
                            "systemd start jobs on whole minutes; start the rate on a whole minute")
    guard: dict[str, str | None] = {"kind": kind, "expression": expression, "timezone": timezone,
                                    "start": start, "end": end}
    zone = host_tz if scheduler == "cron" else "UTC"
    minute = cron_minute_field(kind, expression, timezone, zone, now)
    if scheduler == "cron":
        return HostForm("cron", f"{minute} * * * *", host_tz, minute, guard)
    return HostForm("systemd", on_calendar(minute), "UTC", minute, guard,
                    {"AccuracySec": "1s", "RandomizedDelaySec": "0"})


def on_calendar(minute_field: str) -> str:
    """Render the superset minute field (`*` or a list, UTC) as an OnCalendar expression with a UTC suffix."""
    minutes = "*" if minute_field == "*" else ",".join(f"{int(m):02d}" for m in minute_field.split(","))
    return f"*-*-* *:{minutes}:00 UTC"


def cron_minute_field(kind: str, expression: str, canonical_tz: str, host_tz: str,
                      now: dt.datetime | None = None) -> str:
    """Return the minute field (in host_tz) covering every canonical fire minute of the schedule."""
    if kind == "rate":
        canonical.parse_rate(expression)  # refuse a bad rate at deploy time, not at 3 a.m. on the host
        return "*"  # a rate's fire minutes follow its anchor, not the wall clock
    minutes = canonical.parse_cron(expression).minutes
    if len(minutes) == 60:
        return "*"
    diffs = {(oh - oc) % 60 for oc in zone_offsets(canonical_tz, now) for oh in zone_offsets(host_tz, now)}
    host_minutes = sorted({(m + d) % 60 for m in minutes for d in diffs})
    return "*" if len(host_minutes) == 60 else ",".join(str(m) for m in host_minutes)


def zone_offsets(tz: str, now: dt.datetime | None = None) -> frozenset[int]:
    """Return the UTC offsets (whole minutes) a zone uses over the horizon around now."""
    day = (now or dt.datetime.now(dt.UTC)).date()
    return _offsets(tz, day.toordinal())


@lru_cache(maxsize=64)
def _offsets(tz: str, ordinal: int) -> frozenset[int]:
    """Return the offsets in force over the horizon: the one at its start and each transition's new offset."""
    zmap = zone_map(tz)
    start = int(dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), dt.UTC).timestamp())
    lo, hi = start - HORIZON_DAYS_BACK * 86400, start + HORIZON_DAYS_AHEAD * 86400
    found = {zmap.offset_at(lo), *(t.after for t in zmap.transitions(lo, hi))}
    return frozenset(offset // 60 for offset in found)
