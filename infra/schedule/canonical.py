"""The canonical schedule: a portable 5-field cron dialect or a fixed rate, and what it means.

Stdlib only: the on-prem runner ships this file to hosts and imports it from its own directory.

Dialect (each rule is enforced below, where it is implemented):
* five fields: minute hour day-of-month month day-of-week;
* `*`, `*/n`, `a`, `a-b`, `a-b/n` and comma lists; no wrap-around ranges (`22-2`);
* month names JAN-DEC and weekday names SUN-SAT (any case), also inside ranges and lists;
* day-of-week 0-7, where 0 and 7 are Sunday (crontab(5)); platforms that number otherwise get a translation;
* `L` alone in day-of-month: the last day of the month;
* `DOW#n` alone in day-of-week: the n-th such weekday of the month (n = 1..5), e.g. `MON#1`;
* day-of-month and day-of-week may not both be restricted: crontab(5) and Google OR them, Azure and systemd AND
  them, AWS forbids it; the canonical form refuses the ambiguity rather than pick a side.

A rate is "N minute(s)|hour(s)|day(s)", at least one minute, anchored at the schedule's start.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# crontab(5)'s nicknames and their five-field meaning; @reboot has none, so it is left to the field count.
NICKNAMES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
             "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


_DIGITS = re.compile(r"^[0-9]+$")  # str.isdigit() also admits '²', which int() refuses


class CronSyntaxError(ValueError):
    """A schedule expression outside the canonical dialect; the message says what and why."""


@dataclass(frozen=True)
class CronSpec:
    """A parsed canonical cron expression."""

    minutes: frozenset[int]
    hours: frozenset[int]
    doms: frozenset[int]
    last_dom: bool
    months: frozenset[int]
    dows: frozenset[int]
    nth_dow: tuple[int, int] | None
    dom_restricted: bool
    dow_restricted: bool
    source: str

    def key(self) -> tuple[object, ...]:
        """Return a value equal for two expressions that mean the same thing."""
        return (
            tuple(sorted(self.minutes)),
            tuple(sorted(self.hours)),
            tuple(sorted(self.doms)),
            self.last_dom,
            tuple(sorted(self.months)),
            tuple(sorted(self.dows)),
            self.nth_dow,
        )


_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, MONTH_NAMES),
    ("day-of-week", 0, 7, DAY_NAMES),
)


def parse_cron(expr: str) -> CronSpec:
    """Parse a canonical 5-field cron expression or raise CronSyntaxError naming the bad part."""
    if not isinstance(expr, str):
        raise CronSyntaxError(f"expected a string such as '0 2 * * *', got {type(expr).__name__}")
    return _parse_cron(expr)


@functools.lru_cache(maxsize=8192)  # a spec is immutable; validating 1,000 workflows parses each one ~40 times
def _parse_cron(expr: str) -> CronSpec:
    parts = expr.split()
    if len(parts) == 1 and parts[0].lower() in NICKNAMES:
        raise CronSyntaxError(f"is a cron nickname, which not every platform accepts; write "
                              f"{NICKNAMES[parts[0].lower()]!r} instead")
    if len(parts) != 5:
        raise CronSyntaxError(
            f"has {len(parts)} field{'s' if len(parts) != 1 else ''}; the canonical form has 5 (minute hour "
            "day-of-month month day-of-week), no seconds and no year, e.g. '0 2 * * *' for 02:00 every day"
        )
    minute, hour, dom, month, dow = parts
    minutes = _parse_field(minute, *_FIELDS[0][1:])
    hours = _parse_field(hour, *_FIELDS[1][1:])
    last_dom = dom.upper() == "L"
    doms = frozenset() if last_dom else _parse_field(dom, *_FIELDS[2][1:])
    months = _parse_field(month, *_FIELDS[3][1:])
    nth_dow = _parse_nth(dow) if "#" in dow else None
    dows = frozenset({nth_dow[0]}) if nth_dow else frozenset(d % 7 for d in _parse_field(dow, *_FIELDS[4][1:]))
    dom_restricted, dow_restricted = dom != "*", dow != "*"
    if dom_restricted and dow_restricted:
        raise CronSyntaxError(
            f"restricts both day-of-month ({dom!r}) and day-of-week ({dow!r}); platforms disagree on whether "
            "that means AND or OR — keep one of them '*', and use 'MON#1' for 'the first Monday'"
        )
    return CronSpec(minutes, hours, doms, last_dom, months, dows, nth_dow, dom_restricted, dow_restricted, expr)


def _parse_field(text: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    field = _field_name(low, high, names)
    if "?" in text:
        raise CronSyntaxError(f"{field} {text!r} uses '?', which only AWS accepts; write '*' instead")
    if any(ch in text.upper() for ch in "LW#") and not _is_name_list(text, names):
        raise CronSyntaxError(
            f"{field} {text!r}: 'L' stands alone in day-of-month, '#' alone in day-of-week (e.g. 'MON#1'), "
            "and 'W' is not portable"
        )
    values: set[int] = set()
    for item in text.split(","):
        values.update(_parse_item(item, low, high, names, field))
    return frozenset(values)


def _parse_item(item: str, low: int, high: int, names: tuple[str, ...], field: str) -> range:
    base, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not _DIGITS.match(step_text) or int(step_text) == 0:
            raise CronSyntaxError(f"{field} step {step_text!r} in {item!r} must be a positive whole number")
        step = int(step_text)
    if base == "*":
        start, end = low, high if names is not DAY_NAMES else 6
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(first, low, high, names, field), _value(last, low, high, names, field)
        if start > end:
            raise CronSyntaxError(
                f"{field} range {base!r} wraps around; not every platform accepts that — write it as two ranges"
            )
    else:
        start = _value(base, low, high, names, field)
        if step_text:
            raise CronSyntaxError(f"{field} {item!r}: write the step on a range or '*', e.g. '{base}-{high}/{step}'")
        end = start
    return range(start, end + 1, step)


def _value(text: str, low: int, high: int, names: tuple[str, ...], field: str) -> int:
    upper = text.upper()
    if names and upper in names:
        return names.index(upper) + (1 if names is MONTH_NAMES else 0)
    if not _DIGITS.match(text):
        hint = f"; names are {names[0]}..{names[-1]}" if names else ""
        raise CronSyntaxError(f"{field} value {text!r} is not a number in {low}-{high}{hint}")
    value = int(text)
    if not low <= value <= high:
        raise CronSyntaxError(f"{field} value {value} is outside {low}-{high}")
    return value


def _parse_nth(text: str) -> tuple[int, int]:
    day, _, nth = text.partition("#")
    weekday = _value(day, 0, 7, DAY_NAMES, "day-of-week") % 7
    if not _DIGITS.match(nth) or not 1 <= int(nth) <= 5:
        raise CronSyntaxError(f"day-of-week {text!r}: the number after '#' is the week of the month, 1-5")
    return weekday, int(nth)


def _is_name_list(text: str, names: tuple[str, ...]) -> bool:
    tokens = text.upper().replace("-", ",").replace("/", ",").split(",")
    return bool(names) and all(t in names or t.isdigit() or t == "*" for t in tokens)


def _field_name(low: int, high: int, names: tuple[str, ...]) -> str:
    for name, lo, hi, nm in _FIELDS:
        if (lo, hi, nm) == (low, high, names):
            return name
    return "field"


def parse_rate(expr: str) -> int:
    """Parse a rate such as '15 minutes' into seconds or raise CronSyntaxError."""
    parts = expr.split() if isinstance(expr, str) else []
    if len(parts) != 2 or not _DIGITS.match(parts[0]) or parts[1].lower() not in RATE_UNITS:
        raise CronSyntaxError("a rate is '<N> minutes', '<N> hours' or '<N> days', e.g. '15 minutes'")
    value = int(parts[0])
    if value < 1:
        raise CronSyntaxError("a rate must be at least 1 minute")
    return value * RATE_UNITS[parts[1].lower()]


def day_matches(spec: CronSpec, day: dt.date) -> bool:
    """Tell whether the day rule (day-of-month, month, day-of-week) admits this calendar date."""
    if day.month not in spec.months:
        return False
    if spec.last_dom:
        return day.day == calendar.monthrange(day.year, day.month)[1]
    if spec.dom_restricted:
        return day.day in spec.doms
    weekday = (day.weekday() + 1) % 7  # Python: Monday=0; canonical: Sunday=0
    if spec.nth_dow is not None:
        return weekday == spec.nth_dow[0] and (day.day - 1) // 7 + 1 == spec.nth_dow[1]
    return weekday in spec.dows


def is_point_in_time(spec: CronSpec) -> bool:
    """Tell whether the schedule names one wall-clock time per day (single minute and single hour)."""
    return len(spec.minutes) == 1 and len(spec.hours) == 1


# ---------------------------------------------------------------------------------------------------------------
# Canonical fire semantics (stdlib only; the on-prem runner's time-zone guard calls fires_at_minute).
#
# * point-in-time schedules (one minute AND one hour): one fire per matching local date. A wall time inside a DST
#   gap fires where the same wall time falls with the pre-transition offset (PEP 495 fold=0), i.e. shifted forward
#   by the gap: 02:30 Europe/Berlin on 2026-03-29 fires at 03:30 CEST = 01:30Z. A wall time inside an overlap
#   fires once, at its first occurrence (fold=0): 02:30 on 2026-10-25 fires at 00:30Z only.
# * interval schedules (anything else): every instant whose local wall time matches — none for wall times in a
#   gap (they do not exist), both passes of an overlap.
# * rate: anchor + k * period for k >= 0 (anchor = start, or the Unix epoch), in absolute time: no DST effect.
# * start <= t < end when given.
# ---------------------------------------------------------------------------------------------------------------

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_SEARCH_DAYS = 366 * 50  # a day rule that matches nothing in 50 years (e.g. Feb 30) ends the iteration


class ScheduleLike(Protocol):
    """What the evaluator reads from infra.model.Schedule (kept structural: hosts do not ship infra.model)."""

    @property
    def kind(self) -> str: ...
    @property
    def expression(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def start(self) -> dt.datetime | None: ...
    @property
    def end(self) -> dt.datetime | None: ...


def canonical_fires(schedule: ScheduleLike, after: dt.datetime, count: int) -> list[dt.datetime]:
    """Return the next `count` canonical fire instants (UTC) strictly after `after`."""
    return list(itertools.islice(iter_canonical_fires(schedule, after), count))


def iter_canonical_fires(schedule: ScheduleLike, after: dt.datetime,
                         until: dt.datetime | None = None) -> Iterator[dt.datetime]:
    """Yield canonical fire instants (UTC, ascending) strictly after `after` and before `until`/end."""
    stop = min((t for t in (until, schedule.end) if t is not None), default=None)
    source = _rate_fires(schedule, after) if schedule.kind == "rate" else _cron_fires(schedule, after)
    for instant in source:
        if stop is not None and instant >= stop:
            return
        if schedule.start is None or instant >= schedule.start:
            yield instant


def _rate_fires(schedule: ScheduleLike, after: dt.datetime) -> Iterator[dt.datetime]:
    period = parse_rate(schedule.expression)
    anchor = schedule.start or _EPOCH
    elapsed = int((after - anchor).total_seconds())
    k = 0 if elapsed < 0 else elapsed // period + 1
    while True:
        yield anchor.astimezone(_UTC) + dt.timedelta(seconds=k * period)
        k += 1


def _cron_fires(schedule: ScheduleLike, after: dt.datetime) -> Iterator[dt.datetime]:
    spec = parse_cron(schedule.expression)
    zone = ZoneInfo(schedule.timezone)
    day = after.astimezone(zone).date() - dt.timedelta(days=1)
    idle = 0
    while idle < _SEARCH_DAYS:
        found = sorted(set(_fires_on(spec, zone, day)))
        idle = 0 if found else idle + 1
        yield from (t for t in found if t > after)
        day += dt.timedelta(days=1)


def _fires_on(spec: CronSpec, zone: ZoneInfo, day: dt.date) -> list[dt.datetime]:
    if not day_matches(spec, day):
        return []
    pit = is_point_in_time(spec)
    out: list[dt.datetime] = []
    for hour in sorted(spec.hours):
        for minute in sorted(spec.minutes):
            out.extend(_wall_instants(dt.datetime(day.year, day.month, day.day, hour, minute), zone, pit))
    return out


def _wall_instants(wall: dt.datetime, zone: ZoneInfo, point_in_time: bool) -> list[dt.datetime]:
    """Return the canonical instants for one matching wall time (the DST rules above)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(_UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(_UTC)
    if first == second:
        return [first]
    exists = first.astimezone(zone).replace(tzinfo=None) == wall
    if exists:  # overlap: both folds are real
        return [first] if point_in_time else [first, second]
    return [first] if point_in_time else []  # gap: fold=0 uses the pre-transition offset


def fires_at_minute(schedule_expr: str, tz: str, utc_minute: dt.datetime) -> bool:
    """Tell whether the canonical cron schedule fires in this UTC minute (the on-prem runner's guard)."""
    spec = parse_cron(schedule_expr)
    zone = ZoneInfo(tz)
    minute = utc_minute.astimezone(_UTC).replace(second=0, microsecond=0)
    local = minute.astimezone(zone)
    if not is_point_in_time(spec):
        return local.minute in spec.minutes and local.hour in spec.hours and day_matches(spec, local.date())
    (hour,), (minute_of_hour,) = spec.hours, spec.minutes
    for offset in (-1, 0, 1):
        day = local.date() + dt.timedelta(days=offset)
        if day_matches(spec, day):
            wall = dt.datetime(day.year, day.month, day.day, hour, minute_of_hour)
            if minute in _wall_instants(wall, zone, True):
                return True
    return False
