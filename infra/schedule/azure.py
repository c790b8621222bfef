"""Azure Functions timer trigger: NCRONTAB expressions and the host's DST adjustments.

Rules implemented here, with their sources (docs/schedules.md):
* six fields `second minute hour day month day-of-week`, or five without seconds [Z1];
* `*`, `,`, `-`, `/`, numbers and case-insensitive prefixes of full month/day names; day-of-week 0-6, 0 = Sunday,
  7 rejected; a reversed range is swapped, `a/n` = `a-max/n` [Z5];
* day-of-month and day-of-week must BOTH match (NCrontab checks the weekday after choosing the day) [Z5];
* zone = WEBSITE_TIME_ZONE (Windows ID on Windows, IANA on Linux Premium/Dedicated), else UTC [Z1];
* DST, ported from CronSchedule.GetNextOccurrence (WebJobs.Extensions 5.1.0, PR #908) [Z4]: the next wall time is
  taken from the previous fire's wall time; a wall inside the gap gets the standard offset (02:30 -> 03:30);
  a point-in-time schedule fires once in the overlap (first), an interval schedule fires both passes.
  "Interval" = NCrontab's normalised seconds, minutes or hours field shows `*` or a range (two consecutive values).
* TimeSpan `hh:mm:ss` (App Service plan only) is elapsed time since the previous run [Z1].
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from infra.schedule.calendar import ALL_DOMS, ALL_DOWS, CalendarSpec, DayRule
from infra.schedule.cronfields import FieldRule, NativeSyntaxError, parse_field
from infra.schedule.policies import iter_rate
from infra.schedule.tzmap import ZoneMap, zone_map

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_RULES = (
    FieldRule("second", 0, 59, swap=True, single_step=True, platform="azure"),
    FieldRule("minute", 0, 59, swap=True, single_step=True, platform="azure"),
    FieldRule("hour", 0, 23, swap=True, single_step=True, platform="azure"),
    FieldRule("day", 1, 31, swap=True, single_step=True, platform="azure"),
    FieldRule("month", 1, 12, _MONTHS, name_prefix=True, swap=True, single_step=True, platform="azure"),
    FieldRule("day-of-week", 0, 6, _DAYS, name_prefix=True, swap=True, single_step=True, platform="azure"),
)
_QUARTZ = re.compile(r"[?#]|(^|[,\-/])(\d*L|\d+W|LW)($|[,\-/])")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class AzureSchedule:
    """A parsed timer schedule: NCRONTAB calendar (+ interval flag) or a TimeSpan (seconds)."""

    calendar: CalendarSpec | None
    interval: bool
    timespan_seconds: int | None


def parse(expression: str) -> AzureSchedule:
    """Parse an NCRONTAB or TimeSpan schedule as the Functions host does, or raise NativeSyntaxError."""
    span = _TIMESPAN.match(expression.strip())
    if span:
        days, h, m, s = (int(g) if g else 0 for g in span.groups())
        seconds = days * 86400 + h * 3600 + m * 60 + s
        if seconds < 1:
            raise NativeSyntaxError(f"azure: TimeSpan {expression!r} must be positive")
        return AzureSchedule(None, True, seconds)
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise NativeSyntaxError(f"azure: {expression!r} has {len(fields)} fields; NCRONTAB takes 6 "
                                "({second} {minute} {hour} {day} {month} {day-of-week}) or 5 (no seconds)")
    if len(fields) == 5:
        fields = ["0", *fields]
    for text in fields:
        if _QUARTZ.search(text.upper()):
            raise NativeSyntaxError(f"azure: field {text!r}: NCRONTAB has no '?', 'L', 'W' or '#'; "
                                    "write the days out (e.g. '1-7' with a weekday for 'first Monday')")
    sec, minute, hour, dom, month, dow = (parse_field(t, r) for t, r in zip(fields, _RULES, strict=True))
    day = DayRule(months=month, doms=dom, dom_any=dom == ALL_DOMS, dows=dow, dow_any=dow == ALL_DOWS)
    interval = any(_shows_range(v) for v in (sec, minute, hour))
    return AzureSchedule(CalendarSpec(day, sec, minute, hour), interval, None)


def _shows_range(values: frozenset[int]) -> bool:
    """Tell whether NCrontab's normalised text of this field holds '*' or 'a-b' (any two consecutive values)."""
    return any(v + 1 in values for v in values)


def iter_fires(parsed: AzureSchedule, zone: str, after: int, anchor: int) -> Iterator[int]:
    """Yield fire instants strictly after `after`, each computed from the previous one as the host does."""
    if parsed.timespan_seconds is not None:
        return iter_rate(anchor, parsed.timespan_seconds, after)
    assert parsed.calendar is not None
    return _iter_cron(parsed.calendar, parsed.interval, zone_map(zone), after)


def _iter_cron(spec: CalendarSpec, interval: bool, zmap: ZoneMap, now: int) -> Iterator[int]:
    while True:
        nxt = _next_occurrence(spec, interval, zmap, now)
        if nxt is None:
            return
        if nxt > now:  # the host never schedules backwards; guard against a pathological adjustment
            yield nxt
            now = nxt
        else:
            now += 1


def _next_occurrence(spec: CalendarSpec, interval: bool, zmap: ZoneMap, now: int) -> int | None:
    now_off = zmap.offset_at(now)
    wall = spec.next_wall(now + now_off)
    if wall is None:
        return None
    nxt = _dotnet_instant(zmap, wall)
    next_off = zmap.offset_at(nxt)
    now_amb, next_amb = _ambiguous(zmap, now), _ambiguous(zmap, nxt)
    if not interval and next_amb and next_off != now_off:
        return nxt + (next_off - now_off)  # scenario 1: use the daylight (first) occurrence
    if not interval and next_amb:
        # Scenario 2: already in standard time; the first pass is assumed to have run, skip ambiguous walls.
        while wall is not None and zmap.transition_near(wall) is not None:
            wall = spec.next_wall(wall)
        return None if wall is None else _dotnet_instant(zmap, wall)
    if interval and (now_amb or next_amb) and next_off != now_off:
        return nxt + (next_off - now_off)  # scenario 3: stay on the daylight pass while crossing back
    return nxt


def _dotnet_instant(zmap: ZoneMap, wall: int) -> int:
    """`new DateTimeOffset(local)`: an invalid or ambiguous wall gets the standard (smaller) offset."""
    instants = zmap.resolve(wall)
    if len(instants) == 1:
        return instants[0]
    trans = zmap.transition_near(wall)
    assert trans is not None
    return wall - min(trans.before, trans.after)


def _ambiguous(zmap: ZoneMap, instant: int) -> bool:
    trans = zmap.transition_near(instant + zmap.offset_at(instant))
    return trans is not None and not trans.is_gap
