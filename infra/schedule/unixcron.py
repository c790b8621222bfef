"""The 5-field unix cron shared by Debian cron and Google Cloud Scheduler (each adds its own limits).

Day rule (crontab(5) [C1], Google [G1]): if both day-of-month and day-of-week are restricted, a day matching
EITHER fires; a field whose text starts with '*' counts as unrestricted, and then both must match
(cron.c DOM_STAR/DOW_STAR [C5]) — so `*/2` in day-of-month ANDs with a weekday.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.schedule.calendar import CalendarSpec, DayRule
from infra.schedule.cronfields import FieldRule, NativeSyntaxError, parse_field

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class UnixCron:
    """A parsed 5-field line; `fixed_time` = minute and hour fields do not start with '*' (Debian's DST test)."""

    calendar: CalendarSpec
    fixed_time: bool
    fields: tuple[str, ...]


def parse_unix(expression: str, platform: str, names_in_ranges: bool) -> UnixCron:
    """Parse five unix cron fields, or raise NativeSyntaxError naming the bad field."""
    fields = tuple(expression.split())
    if len(fields) != 5:
        raise NativeSyntaxError(f"{platform}: {expression!r} has {len(fields)} fields; unix cron takes 5 "
                                "(minute hour day-of-month month day-of-week) and no seconds")
    for text in fields:
        if any(c in text for c in "?#") or "L" in text.upper().replace("JUL", "").replace("APR", ""):
            raise NativeSyntaxError(f"{platform}: field {text!r}: unix cron has no '?', 'L', 'W' or '#' "
                                    f"({'Cloud Scheduler does not support L' if platform == 'gcp' else 'crontab(5)'})")
    rules = _rules(platform, names_in_ranges)
    minute, hour, dom, month, dow = (parse_field(t, r) for t, r in zip(fields, rules, strict=True))
    dows = frozenset(d % 7 for d in dow)
    dom_star, dow_star = fields[2].startswith("*"), fields[4].startswith("*")
    day = DayRule(months=month, doms=dom, dom_any=fields[2] == "*", dows=dows, dow_any=fields[4] == "*",
                  combine_or=not (dom_star or dow_star))
    cal = CalendarSpec(day, frozenset({0}), minute, hour)
    return UnixCron(cal, not fields[0].startswith("*") and not fields[1].startswith("*"), fields)


def _rules(platform: str, names_in_ranges: bool) -> tuple[FieldRule, ...]:
    return (
        FieldRule("minute", 0, 59, platform=platform),
        FieldRule("hour", 0, 23, platform=platform),
        FieldRule("day-of-month", 1, 31, platform=platform),
        FieldRule("month", 1, 12, MONTHS, names_in_ranges=names_in_ranges, platform=platform),
        FieldRule("day-of-week", 0, 7, DAYS, names_in_ranges=names_in_ranges, platform=platform),
    )
