"""AWS EventBridge Scheduler and classic EventBridge rules: `cron(...)`/`rate(...)` expressions.

Rules implemented here, with their sources (docs/schedules.md, reference keys):
* six fields `minutes hours day-of-month month day-of-week year` [A1][A2]; day-of-week 1-7 = SUN-SAT [A1];
* exactly one of day-of-month / day-of-week is `?` — both restricted is rejected [A1];
* day-of-month `L`, `LW`, `nW`; day-of-week `L`, `nL` (last such weekday), `n#k` (only one expression) [A1];
* `a/n` = a, a+n, ... and wrap-around ranges (`20-2` in hours) [A1]; year 1970-2199 [A1];
* rate(value unit): minute(s)/hour(s)/day(s), singular for 1; a day is 24 hours, so local time drifts at DST [A4];
* DST (Scheduler, `ScheduleExpressionTimezone`): a wall time inside the spring-forward gap is skipped; in the
  fall-back overlap the job "runs only once" [A4] — which occurrence is not documented: we assume the first;
* classic rules (platform "aws-rule") evaluate in UTC only ("All scheduled events use UTC+0") [A1].
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infra.schedule.calendar import ALL_DOMS, ALL_DOWS, CalendarSpec, DayRule
from infra.schedule.cronfields import FieldRule, NativeSyntaxError, parse_field, value_of
from infra.schedule.policies import iter_mapped, iter_rate, skip_gap_first_overlap
from infra.schedule.tzmap import zone_map

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RULES = {
    "minutes": FieldRule("minutes", 0, 59, wrap=True, single_step=True, platform="aws"),
    "hours": FieldRule("hours", 0, 23, wrap=True, single_step=True, platform="aws"),
    "day-of-month": FieldRule("day-of-month", 1, 31, wrap=True, single_step=True, platform="aws"),
    "month": FieldRule("month", 1, 12, _MONTHS, wrap=True, single_step=True, platform="aws"),
    "day-of-week": FieldRule("day-of-week", 1, 7, _DAYS, wrap=True, single_step=True, platform="aws"),
    "year": FieldRule("year", 1970, 2199, single_step=True, platform="aws"),
}
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class AwsSchedule:
    """A parsed EventBridge expression: a calendar or a rate (seconds)."""

    calendar: CalendarSpec | None
    rate_seconds: int | None


def parse(expression: str) -> AwsSchedule:
    """Parse `cron(...)` or `rate(...)` as EventBridge does, or raise NativeSyntaxError with its rule."""
    text = expression.strip()
    if text.startswith("rate("):
        return AwsSchedule(None, _parse_rate(text))
    if not (text.startswith("cron(") and text.endswith(")")):
        raise NativeSyntaxError(f"aws: {expression!r} is neither cron(...) nor rate(...); e.g. "
                                "'cron(0 10 * * ? *)' or 'rate(1 day)'")
    fields = text[5:-1].split()
    if len(fields) != 6:
        raise NativeSyntaxError(f"aws: cron() needs 6 fields (minutes hours day-of-month month day-of-week year), "
                                f"got {len(fields)} in {expression!r}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise NativeSyntaxError(f"aws: {expression!r}: exactly one of day-of-month ({dom!r}) and day-of-week "
                                f"({dow!r}) must be '?' — EventBridge does not accept both or neither")
    day = DayRule(months=parse_field(month, _RULES["month"]), years=_years(year), **_dom(dom), **_dow(dow))
    cal = CalendarSpec(day, frozenset({0}), parse_field(minute, _RULES["minutes"]),
                       parse_field(hour, _RULES["hours"]))
    return AwsSchedule(cal, None)


def _parse_rate(text: str) -> int:
    match = _RATE.match(text)
    if not match:
        raise NativeSyntaxError(f"aws: {text!r} is not rate(<value> <unit>) with unit minute(s), hour(s) or day(s)")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise NativeSyntaxError(f"aws: {text!r}: the value must be a positive whole number")
    if (value == 1) != (not unit.endswith("s")):
        raise NativeSyntaxError(f"aws: {text!r}: use the singular unit for 1 and the plural otherwise "
                                "(rate(1 day), rate(5 days))")
    return value * _UNIT_SECONDS[unit.rstrip("s")]


def _years(text: str) -> frozenset[int] | None:
    return None if text == "*" else parse_field(text, _RULES["year"])


def _dom(text: str) -> dict[str, Any]:
    if text in ("?", "*"):
        return {"dom_any": True}
    if text == "L":
        return {"dom_any": False, "doms": frozenset(), "dom_from_end": frozenset({0})}
    if text == "LW":
        return {"dom_any": False, "doms": frozenset(), "dom_weekday_near": frozenset({0})}
    if text.endswith("W") and text[:-1].isdigit():
        day = value_of(text[:-1], _RULES["day-of-month"])
        return {"dom_any": False, "doms": frozenset(), "dom_weekday_near": frozenset({day})}
    if any(c in text for c in "LW#"):
        raise NativeSyntaxError(f"aws: day-of-month {text!r}: L, LW and nW stand alone")
    doms = parse_field(text, _RULES["day-of-month"])
    return {"dom_any": doms == ALL_DOMS, "doms": doms}


def _dow(text: str) -> dict[str, Any]:
    rule = _RULES["day-of-week"]
    if text in ("?", "*"):
        return {"dow_any": True}
    if text == "L":  # Quartz: L alone is the last day of the week, Saturday
        return {"dow_any": False, "dows": frozenset({6})}
    if "#" in text:
        if "," in text:
            raise NativeSyntaxError(f"aws: day-of-week {text!r}: with '#' only one expression is allowed")
        day, _, nth = text.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise NativeSyntaxError(f"aws: day-of-week {text!r}: the number after '#' is 1-5")
        return {"dow_any": False, "dows": frozenset(), "dow_nth": frozenset({(value_of(day, rule) - 1, int(nth))})}
    if text.endswith("L") and text[:-1].isdigit():
        return {"dow_any": False, "dows": frozenset(), "dow_last": frozenset({value_of(text[:-1], rule) - 1})}
    if any(c in re.sub("|".join(_DAYS), "", text.upper()) for c in "LW#"):
        raise NativeSyntaxError(f"aws: day-of-week {text!r}: L, nL and n#k stand alone")
    dows = frozenset(v - 1 for v in parse_field(text, rule))
    return {"dow_any": dows == ALL_DOWS, "dows": dows}


def iter_fires(parsed: AwsSchedule, zone: str, after: int, anchor: int) -> Iterator[int]:
    """Yield fire instants strictly after `after` under the Scheduler's rules."""
    if parsed.rate_seconds is not None:
        return iter_rate(anchor, parsed.rate_seconds, after)
    assert parsed.calendar is not None
    zmap = zone_map(zone)
    return iter_mapped(parsed.calendar, zmap, after, skip_gap_first_overlap(zmap))


def render_cron(minute: str, hour: str, dom: str, month: str, dow: str) -> str:
    """Render EventBridge cron(); the caller passes AWS-numbered fields and '?' in one day field."""
    return f"cron({minute} {hour} {dom} {month} {dow} *)"
