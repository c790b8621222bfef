"""Build evaluators for the canonical meaning of a schedule on the shared calendar engine.

canonical.py states the meaning and carries a small stdlib-only evaluator for on-prem hosts; this module is the
fast engine form of the same rules, used by equivalence. tests/test_schedule_canonical.py pins them together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from infra.model import Schedule
from infra.schedule.calendar import ALL_DOMS, ALL_DOWS, CalendarSpec, DayRule
from infra.schedule.canonical import CronSpec, is_point_in_time, parse_cron, parse_rate
from infra.schedule.policies import Mapper, canonical_mapper
from infra.schedule.tzmap import ZoneMap, zone_map


@dataclass(frozen=True)
class CanonicalModel:
    """A canonical schedule ready to evaluate: a calendar in a zone, or a rate (anchor, period)."""

    schedule: Schedule
    calendar: CalendarSpec | None
    rate: tuple[int, int] | None
    zone: str
    point_in_time: bool

    def mapper(self) -> Mapper:
        """Return the canonical DST mapper for this schedule's zone."""
        return canonical_mapper(self.zmap, self.point_in_time)

    @property
    def zmap(self) -> ZoneMap:
        """Return the zone map of the schedule's zone."""
        return zone_map(self.zone)


def canonical_model(schedule: Schedule) -> CanonicalModel:
    """Parse a canonical schedule into its evaluable form (raises CronSyntaxError)."""
    if schedule.kind == "rate":
        anchor = int(schedule.start.timestamp()) if schedule.start else 0
        return CanonicalModel(schedule, None, (anchor, parse_rate(schedule.expression)), "UTC", False)
    spec = parse_cron(schedule.expression)
    return CanonicalModel(schedule, calendar_of(spec), None, schedule.timezone, is_point_in_time(spec))


def calendar_of(spec: CronSpec) -> CalendarSpec:
    """Return the engine calendar of a canonical cron spec."""
    if spec.last_dom:
        dom = {"doms": frozenset(), "dom_from_end": frozenset({0}), "dom_any": False}
    else:
        dom = {"doms": spec.doms if spec.dom_restricted else ALL_DOMS, "dom_any": not spec.dom_restricted}
    if spec.nth_dow is not None:
        dow = {"dows": frozenset(), "dow_nth": frozenset({spec.nth_dow}), "dow_any": False}
    else:
        dow = {"dows": spec.dows if spec.dow_restricted else ALL_DOWS, "dow_any": not spec.dow_restricted}
    day = DayRule(months=spec.months, **dom, **dow)  # type: ignore[arg-type]
    return CalendarSpec(normalized(day), frozenset({0}), spec.minutes, spec.hours)


def normalized(rule: DayRule) -> DayRule:
    """Return an equal-meaning rule in a standard shape, so that structural equality implies equal days."""
    dom_all = not rule.dom_any and rule.doms == ALL_DOMS
    dow_all = not rule.dow_any and rule.dows == ALL_DOWS
    dom_any, dow_any = rule.dom_any, rule.dow_any
    if (dom_all and rule.combine_or and not dow_any) or (dow_all and rule.combine_or and not dom_any):
        dom_any = dow_any = True  # "every day OR anything" is every day
    else:
        dom_any, dow_any = dom_any or dom_all, dow_any or dow_all
    out = replace(rule, dom_any=dom_any, dow_any=dow_any, combine_or=rule.combine_or and not (dom_any or dow_any))
    if dom_any:
        out = replace(out, doms=ALL_DOMS, dom_from_end=frozenset(), dom_weekday_near=frozenset())
    if dow_any:
        out = replace(out, dows=ALL_DOWS, dow_nth=frozenset(), dow_last=frozenset())
    return out


def utc_instant(when: dt.datetime | None, default: int) -> int:
    """Return whole UTC seconds of an aware datetime, or the default."""
    return default if when is None else int(when.timestamp())
