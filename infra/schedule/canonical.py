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
from dataclasses import dataclass

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


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
    parts = expr.split()
    if len(parts) != 5:
        raise CronSyntaxError(
            f"has {len(parts)} fields; the canonical form has 5 (minute hour day-of-month month day-of-week), "
            "no seconds and no year"
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
        if not step_text.isdigit() or int(step_text) == 0:
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
    if not text.isdigit():
        hint = f"; names are {names[0]}..{names[-1]}" if names else ""
        raise CronSyntaxError(f"{field} value {text!r} is not a number in {low}-{high}{hint}")
    value = int(text)
    if not low <= value <= high:
        raise CronSyntaxError(f"{field} value {value} is outside {low}-{high}")
    return value


def _parse_nth(text: str) -> tuple[int, int]:
    day, _, nth = text.partition("#")
    weekday = _value(day, 0, 7, DAY_NAMES, "day-of-week") % 7
    if not nth.isdigit() or not 1 <= int(nth) <= 5:
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
    if len(parts) != 2 or not parts[0].isdigit() or parts[1].lower() not in RATE_UNITS:
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
