"""systemd timers: `OnCalendar=` calendar events (systemd.time(7), v252) and their elapse times.

Rules implemented here, with their sources (docs/schedules.md):
* `[weekdays] [[year-]month-day] [hour:minute[:second]] [zone]`; missing date = `*-*-*`, missing time =
  `00:00:00`; shorthands minutely ... annually; `,` lists, `..` ranges, `/n` repetition, `~` counts the day
  from the end of the month (`~01` = last day) [S1];
* weekdays use English names only, and restrict the date: "only if that day is a Thursday or Friday" (AND) [S1];
* zone suffix: `UTC` or a tz database name; otherwise the host's zone [S1];
* AccuracySec defaults to 1min, so units are rendered with AccuracySec=1s [S2];
* DST (observed with systemd-analyze 252, matching #5595 and #8647 [S4]): the next elapse is the next matching
  wall time after the previous elapse's wall time; a wall time inside the spring-forward gap is skipped; a wall
  time in the repeated hour fires at its first occurrence after the previous elapse — so an hourly timer that
  just fired on the first pass moves on to the next wall hour and loses the second pass (bug #8647).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from infra.schedule.calendar import ALL_DOMS, ALL_DOWS, CalendarSpec, DayRule
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.tzmap import UnknownZone, wall_of, zone_map

SHORTHANDS = {
    "minutely": "*-*-* *:*:00", "hourly": "*-*-* *:00:00", "daily": "*-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00", "weekly": "Mon *-*-* 00:00:00", "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00", "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
}
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FULL = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_DATE = re.compile(r"^(?:([0-9*,./]+)-)?([0-9*,./]+)([-~])([0-9*,./]+)$")


@dataclass(frozen=True)
class CalendarEvent:
    """A parsed OnCalendar expression; `zone` is the suffix zone, or None for the host's zone."""

    calendar: CalendarSpec
    zone: str | None


def parse(expression: str) -> CalendarEvent:
    """Parse an OnCalendar expression as systemd 252 does, or raise NativeSyntaxError."""
    tokens = expression.split()
    if not tokens:
        raise NativeSyntaxError("systemd: empty OnCalendar expression")
    zone = _zone_suffix(tokens)
    if len(tokens) == 1 and tokens[0].lower() in SHORTHANDS:
        tokens = SHORTHANDS[tokens[0].lower()].split()
    dows = None
    if tokens and tokens[0][:1].isalpha():
        dows = _weekdays(tokens.pop(0))
    date = ("*", "*", "-", "*")
    if tokens and ":" not in tokens[0]:
        match = _DATE.match(tokens.pop(0))
        if not match:
            raise NativeSyntaxError(f"systemd: {expression!r}: the date must look like '*-*-01' or '2026-03~01'")
        year, month, sep, day = match.groups()
        date = (year or "*", month, sep, day)
    time = tokens.pop(0) if tokens else "00:00:00"
    if tokens:
        raise NativeSyntaxError(f"systemd: {expression!r}: unexpected {' '.join(tokens)!r}")
    return CalendarEvent(_calendar(dows, date, time, expression), zone)


def _zone_suffix(tokens: list[str]) -> str | None:
    last = tokens[-1]
    if len(tokens) < 2 and last.lower() in SHORTHANDS:
        return None
    if last == "UTC" or ("/" in last and last[:1].isalpha()):
        try:
            zone_map(last)
        except UnknownZone as exc:
            raise NativeSyntaxError(f"systemd: {exc}") from exc
        tokens.pop()
        return last
    return None


def _calendar(dows: frozenset[int] | None, date: tuple[str, str, str, str], time: str, expr: str) -> CalendarSpec:
    year, month, sep, day = date
    parts = time.split(":")
    if len(parts) == 2:
        parts.append("00")
    if len(parts) != 3:
        raise NativeSyntaxError(f"systemd: {expr!r}: the time must be hour:minute[:second]")
    if "." in parts[2] and parts[2] not in ("00.000000",):
        raise NativeSyntaxError(f"systemd: {expr!r}: fractional seconds are not compared (Lockstep works in whole "
                                "seconds); drop the fraction")
    hours, minutes, seconds = (_component(p, lo, hi, name) for p, lo, hi, name in
                               ((parts[0], 0, 23, "hour"), (parts[1], 0, 59, "minute"), (parts[2], 0, 59, "second")))
    years = None if year == "*" else frozenset(_full_year(y) for y in _component(year, 0, 2199, "year"))
    months = _component(month, 1, 12, "month")
    if sep == "~":
        from_end = frozenset(v - 1 for v in _component(day, 1, 31, "day", descending=True))
        rule = DayRule(months=months, years=years, doms=frozenset(), dom_from_end=from_end, dom_any=False,
                       dows=dows or ALL_DOWS, dow_any=dows is None)
    else:
        doms = _component(day, 1, 31, "day")
        rule = DayRule(months=months, years=years, doms=doms, dom_any=doms == ALL_DOMS,
                       dows=dows or ALL_DOWS, dow_any=dows is None)
    return CalendarSpec(rule, seconds, minutes, hours)


def _component(text: str, low: int, high: int, name: str, descending: bool = False) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        base, slash, rep = item.partition("/")
        step = int(rep) if slash and rep.isdigit() and int(rep) > 0 else (0 if slash else 1)
        if step == 0:
            raise NativeSyntaxError(f"systemd: {name} repetition {item!r} needs a positive number")
        if base == "*":
            start, end = low, high
        elif ".." in base:
            a, _, b = base.partition("..")
            start, end = _number(a, low, high, name), _number(b, low, high, name)
        else:
            start = _number(base, low, high, name)
            end = (low if descending else high) if slash else start
        if descending and slash:
            values.update(range(start, end - 1, -step))
        else:
            values.update(range(start, end + 1, step))
    return frozenset(values)


def _full_year(year: int) -> int:
    """Two-digit years as systemd reads them: 70-99 -> 19xx, 0-69 -> 20xx."""
    if year >= 100:
        return year
    return 1900 + year if year >= 70 else 2000 + year


def _number(text: str, low: int, high: int, name: str) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise NativeSyntaxError(f"systemd: {name} {text!r} is not a number in {low}..{high}")
    return int(text)


def _weekdays(text: str) -> frozenset[int]:
    days: set[int] = set()
    for item in text.split(","):
        a, sep, b = item.partition("..") if ".." in item else item.partition("-")
        first = _weekday(a)
        last = _weekday(b) if sep else first
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def _weekday(text: str) -> int:
    low = text.lower()
    if low in _DAYS:
        return _DAYS.index(low)
    if low in _FULL:
        return _FULL.index(low)
    raise NativeSyntaxError(f"systemd: weekday {text!r} is not an English day name (Mon, Monday, ...)")


def iter_fires(event: CalendarEvent, host_zone: str, after: int) -> Iterator[int]:
    """Yield elapse instants strictly after `after`, each found from the previous one as systemd does."""
    zmap = zone_map(event.zone or host_zone)
    cursor = after
    wall: int | None = wall_of(cursor, zmap)
    while wall is not None:
        wall = event.calendar.next_wall(wall)
        if wall is None:
            return
        later = [t for t in zmap.resolve(wall) if t > cursor]
        if later:
            cursor = later[0]
            yield cursor
            wall = wall_of(cursor, zmap)


def render(weekdays: str, month: str, day: str, time: str, zone: str | None, from_end: bool = False) -> str:
    """Render an OnCalendar expression from already-systemd-shaped parts."""
    text = f"{weekdays + ' ' if weekdays else ''}*-{month}{'~' if from_end else '-'}{day} {time}"
    return f"{text} {zone}" if zone else text


def is_any(spec: CalendarSpec) -> bool:
    """Tell whether the date part is unrestricted (for tests and messages)."""
    return spec.day.dom_any and spec.day.dow_any and spec.day.doms == ALL_DOMS
