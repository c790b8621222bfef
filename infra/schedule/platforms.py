"""One entry point per platform: parse a native expression and evaluate it exactly as that platform fires it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from infra.schedule import aws, azure, debian_cron, gcp, systemd
from infra.schedule.calendar import CalendarSpec
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.policies import take
from infra.schedule.tzmap import UTC_NAMES, UnknownZone, from_epoch, to_epoch, zone_map
from infra.schedule.zones import iana_for_windows

PLATFORMS = ("aws-scheduler", "aws-rule", "azure-functions", "gcp-scheduler", "cron", "systemd")
# translate()'s platform names -> the evaluator that fires their output
BY_TARGET_PLATFORM = {"aws": "aws-scheduler", "azure": "azure-functions", "gcp": "gcp-scheduler",
                      "cron": "cron", "systemd": "systemd"}


@dataclass(frozen=True)
class Evaluator:
    """A native expression ready to evaluate: where it fires, and which DST outcomes are assumed, not documented."""

    platform: str
    zone: str
    calendar: CalendarSpec | None
    rate: tuple[int, int] | None  # (anchor, period seconds)
    iterate: Callable[[int], Iterator[int]]
    assumed_gap: bool
    assumed_overlap: bool


def evaluator(platform: str, expression: str, tz: str = "UTC", start: dt.datetime | None = None) -> Evaluator:
    """Parse `expression` as `platform` takes it; raise NativeSyntaxError with the platform's reason."""
    if platform not in PLATFORMS:
        raise NativeSyntaxError(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    zone = _zone(platform, tz)
    anchor = to_epoch(start) if start else 0
    if platform in ("aws-scheduler", "aws-rule"):
        parsed_aws = aws.parse(expression)
        return Evaluator(platform, zone, parsed_aws.calendar, _rate(anchor, parsed_aws.rate_seconds),
                         lambda after: aws.iter_fires(parsed_aws, zone, after, anchor), False, True)
    if platform == "azure-functions":
        parsed_az = azure.parse(expression)
        return Evaluator(platform, zone, parsed_az.calendar, _rate(anchor, parsed_az.timespan_seconds),
                         lambda after: azure.iter_fires(parsed_az, zone, after, anchor), False, False)
    if platform == "gcp-scheduler":
        parsed_g = gcp.parse(expression)
        return Evaluator(platform, zone, parsed_g.calendar, None,
                         lambda after: gcp.iter_fires(parsed_g, zone, after), True, True)
    if platform == "cron":
        parsed_c = debian_cron.parse(expression)
        return Evaluator(platform, zone, parsed_c.calendar, None,
                         lambda after: debian_cron.iter_fires(parsed_c, zone, after), False, False)
    event = systemd.parse(expression)
    return Evaluator(platform, event.zone or zone, event.calendar, None,
                     lambda after: systemd.iter_fires(event, zone, after), False, False)


def fires(platform: str, expression: str, *, after: dt.datetime, count: int, tz: str = "UTC",
          start: dt.datetime | None = None) -> list[dt.datetime]:
    """Return the next `count` instants strictly after `after`, in UTC, as `platform` fires `expression`."""
    ev = evaluator(platform, expression, tz, start)
    return [from_epoch(t) for t in take(ev.iterate(to_epoch(after)), count)]


def _rate(anchor: int, seconds: int | None) -> tuple[int, int] | None:
    return None if seconds is None else (anchor, seconds)


def _zone(platform: str, tz: str) -> str:
    if platform == "aws-rule" and tz not in UTC_NAMES:
        raise NativeSyntaxError(f"aws-rule: classic EventBridge rules run in UTC only, not {tz!r}; use "
                                "aws-scheduler with ScheduleExpressionTimezone, or convert the times to UTC")
    if platform == "azure-functions" and iana_for_windows(tz):
        tz = iana_for_windows(tz) or tz
    try:
        zone_map(tz)
    except UnknownZone as exc:
        raise NativeSyntaxError(f"{platform}: {exc}") from exc
    return tz
