"""Translate a canonical schedule into each platform's native form, or refuse with a reason a user can act on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from infra.model import Schedule
from infra.schedule import render as r
from infra.schedule.canonical import CronSpec, CronSyntaxError, parse_cron, parse_rate
from infra.schedule.hostform import HostFormError, host_form
from infra.schedule.tzmap import UTC_NAMES, UnknownZone, zone_map
from infra.schedule.zones import windows_id

PLATFORMS = ("aws", "azure", "gcp", "cron", "systemd")
HOST_PLATFORMS = ("cron", "systemd")
AZURE_LOCAL_ZONE_PLANS = ("premium", "dedicated")
# Platforms whose schedule has no start or end date: a bounded schedule would keep firing after its end there.
UNBOUNDED = {"gcp": "Google Cloud Scheduler jobs", "azure": "Azure Functions timer triggers"}


@dataclass(frozen=True)
class Native:
    """A platform's native schedule: expression, zone, settings to apply, and notes for the user."""

    platform: str
    expression: str
    timezone: str | None
    settings: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """Why a schedule cannot be expressed on a platform, and what to do instead."""

    platform: str
    reason: str
    fix: str


def translate(schedule: Schedule, platform: str, *, azure_plan: str = "premium", azure_os: str = "linux",
              host_timezone: str = "UTC") -> Native | Refusal:
    """Return the platform's native form of a canonical schedule, or a Refusal saying why and what to do."""
    if platform not in PLATFORMS:
        return Refusal(platform, f"unknown platform {platform!r}", f"use one of {', '.join(PLATFORMS)}")
    try:
        zone_map(schedule.timezone)
        zone_map(host_timezone)
        if platform in HOST_PLATFORMS:
            return _host(schedule, platform, host_timezone)
        if platform in UNBOUNDED and (schedule.start or schedule.end):
            return _unbounded(schedule, platform)
        if schedule.kind == "rate":
            return _rate(schedule, platform, azure_plan, azure_os, host_timezone)
        spec = parse_cron(schedule.expression)
    except (CronSyntaxError, UnknownZone) as exc:
        return Refusal(platform, str(exc), "fix the schedule in the workflow (see docs/schedules.md)")
    native = _CRON[platform](spec, schedule.timezone, azure_plan, azure_os, host_timezone)
    return _with_bounds(native, schedule) if platform == "aws" else native


def is_utc(zone: str) -> bool:
    """Tell whether a zone name is UTC under another name."""
    return zone in UTC_NAMES


def _aws(spec: CronSpec, tz: str, _plan: str, _os: str, _host: str) -> Native | Refusal:
    minute, hour = r.aws_field(spec.minutes, 0, 59), r.aws_field(spec.hours, 0, 23)
    month = r.aws_field(spec.months, 1, 12)
    if spec.last_dom:
        dom, dow = "L", "?"
    elif spec.nth_dow is not None:
        dom, dow = "?", f"{r.DAY_NAMES[spec.nth_dow[0]]}#{spec.nth_dow[1]}"
    elif spec.dom_restricted:
        dom, dow = r.aws_field(spec.doms, 1, 31), "?"
    elif r.weekdays_restricted(spec):
        dom, dow = "?", r.dow_names(spec.dows, r.DAY_NAMES, "-")
    else:
        dom, dow = "*", "?"
    notes = ("day-of-week uses names: AWS numbers weekdays 1-7 from Sunday",) if dom == "?" else ()
    return Native("aws", f"cron({minute} {hour} {dom} {month} {dow} *)", tz,
                  {"ScheduleExpressionTimezone": tz}, notes)


def _azure_zone(tz: str, plan: str, os_name: str) -> dict[str, str] | Refusal:
    if is_utc(tz):
        return {}
    if os_name == "windows":
        win = windows_id(tz)
        if win is None:
            return Refusal("azure", f"time zone {tz!r} has no entry in Lockstep's IANA->Windows table, and Windows "
                           "function apps need a Windows zone ID in WEBSITE_TIME_ZONE",
                           "use a zone listed in infra/schedule/zones.py, add its CLDR windowsZones mapping there, "
                           "or schedule in UTC")
        return {"WEBSITE_TIME_ZONE": win}
    if plan not in AZURE_LOCAL_ZONE_PLANS:
        return Refusal("azure", f"WEBSITE_TIME_ZONE and TZ are not supported on Linux {plan} plans, so the timer "
                       f"would run in UTC instead of {tz}",
                       "schedule in UTC (convert the times), or host the app on a Premium or Dedicated plan, or "
                       "on Windows")
    return {"WEBSITE_TIME_ZONE": tz}


def _azure(spec: CronSpec, tz: str, plan: str, os_name: str, _host: str) -> Native | Refusal:
    settings = _azure_zone(tz, plan, os_name)
    if isinstance(settings, Refusal):
        return settings
    if spec.last_dom:
        return Refusal("azure", "NCRONTAB has no 'L' (last day of the month)",
                       "use fixed days of the month, or drop azure from this workflow's targets")
    minute, hour = r.unix_field(spec.minutes, 0, 59), r.unix_field(spec.hours, 0, 23)
    dom, dow = r.unix_field(spec.doms, 1, 31) if spec.dom_restricted else "*", "*"
    notes: tuple[str, ...] = ()
    if spec.nth_dow is not None:
        first, last = r.nth_days(spec.nth_dow[1])
        dom, dow = f"{first}-{last}", str(spec.nth_dow[0])
        nth = ("first", "second", "third", "fourth", "fifth")[spec.nth_dow[1] - 1]
        notes = (f"NCRONTAB ANDs day and day-of-week, so days {first}-{last} with a weekday is 'the {nth} such "
                 "weekday'",)
    elif spec.dow_restricted:
        dow = r.unix_field(spec.dows, 0, 6)
    expr = f"0 {minute} {hour} {dom} {r.unix_field(spec.months, 1, 12)} {dow}"
    return Native("azure", expr, settings.get("WEBSITE_TIME_ZONE", "UTC"), settings,
                  (*notes, "the first field is seconds (NCRONTAB)"))


def _gcp(spec: CronSpec, tz: str, _plan: str, _os: str, _host: str) -> Native | Refusal:
    if spec.last_dom:
        return Refusal("gcp", "Google Cloud Scheduler does not support 'L' (last day of the month)",
                       "use fixed days of the month, or drop gcp from this workflow's targets")
    if spec.nth_dow is not None:
        day, nth = r.DAY_NAMES[spec.nth_dow[0]], spec.nth_dow[1]
        first, last = r.nth_days(nth)
        return Refusal("gcp", f"Google Cloud Scheduler has no '#' for '{day}#{nth}', and unix cron ORs "
                       f"day-of-month with day-of-week, so 'days {first}-{last} and {day}' cannot be written either",
                       "use a day-of-month schedule (e.g. '0 9 1 * *'), or drop gcp from this workflow's targets")
    return Native("gcp", _unix_line(spec), tz, {"time_zone": tz})


def _unix_line(spec: CronSpec) -> str:
    dom = r.unix_field(spec.doms, 1, 31) if spec.dom_restricted else "*"
    dow = r.unix_field(spec.dows, 0, 6) if spec.dow_restricted else "*"
    return (f"{r.unix_field(spec.minutes, 0, 59)} {r.unix_field(spec.hours, 0, 23)} {dom} "
            f"{r.unix_field(spec.months, 1, 12)} {dow}")


def _host(schedule: Schedule, platform: str, host: str) -> Native | Refusal:
    """Return the on-prem form (hostform.host_form, the same function the on-prem manifest installs)."""
    iso = [t.isoformat() if t else None for t in (schedule.start, schedule.end)]
    try:
        form = host_form(schedule.kind, schedule.expression, schedule.timezone, iso[0], iso[1], platform, host)
    except HostFormError as exc:
        return Refusal(platform, str(exc), "fix the schedule in the workflow (see docs/onprem.md)")
    settings = {**form.settings, **{f"guard_{k}": v for k, v in form.guard.items() if v is not None}}
    where = f"the host zone {host}" if platform == "cron" else \
        "UTC (systemd bug #8647 loses a host zone's repeated hour)"
    return Native(platform, form.expression, form.timezone, settings, (
        f"{platform} starts the runner at a superset of the canonical minutes, every hour, in {where}; the runner's "
        "guard (the canonical schedule in its own zone, the rate's anchor, start and end) keeps only the canonical "
        "instants",))


def _unbounded(schedule: Schedule, platform: str) -> Refusal:
    bound = " and ".join(n for n, v in (("start", schedule.start), ("end", schedule.end)) if v)
    return Refusal(platform, f"{UNBOUNDED[platform]} have no {bound} date, so the schedule would fire outside "
                   "its start/end window", f"remove {bound} from the schedule, or drop {platform} from this "
                   "workflow's targets")


def _with_bounds(native: Native | Refusal, schedule: Schedule) -> Native | Refusal:
    """Add EventBridge Scheduler's StartDate/EndDate (start <= t < end, as canonical) to an AWS cron form."""
    if isinstance(native, Refusal):
        return native
    bounds = {k: v.astimezone(dt.UTC).isoformat() for k, v in (("StartDate", schedule.start),
                                                                ("EndDate", schedule.end)) if v is not None}
    return Native(native.platform, native.expression, native.timezone, {**native.settings, **bounds}, native.notes)


def _rate(schedule: Schedule, platform: str, plan: str, os_name: str, host: str) -> Native | Refusal:
    seconds = parse_rate(schedule.expression)
    if platform == "aws" and schedule.start is not None:
        return _aws_rate(seconds, schedule)
    anchor = int(schedule.start.timestamp()) if schedule.start else 0
    utc = _rate_as_utc_cron(seconds, anchor)
    if utc is None:
        return _rate_refusal(schedule, platform, anchor)
    as_cron = Schedule("cron", utc, "UTC", end=schedule.end)
    native = translate(as_cron, platform, azure_plan=plan, azure_os=os_name, host_timezone=host)
    if isinstance(native, Native):
        why = " (EventBridge would count a rate from the schedule's creation, the canonical rate from the Unix " \
              "epoch)" if platform == "aws" else ""
        return Native(native.platform, native.expression, native.timezone, native.settings,
                      (*native.notes, f"rate {schedule.expression} written as the UTC cron '{utc}'{why}"))
    return native


def _rate_refusal(schedule: Schedule, platform: str, anchor: int) -> Refusal:
    at = dt.datetime.fromtimestamp(anchor, dt.UTC).isoformat()
    if platform == "aws":
        return Refusal("aws", f"a rate of {schedule.expression} without a start counts from the Unix epoch, but "
                       "EventBridge Scheduler counts it from the schedule's creation, and this period is not a "
                       "cron schedule (it does not divide an hour, or a day in whole hours)",
                       "give the schedule a start (the instant its first fire should be), or use a rate that "
                       "divides a day (e.g. '15 minutes', '6 hours', '1 day')")
    return Refusal(platform, f"a rate of {schedule.expression} anchored at {at} is not a cron schedule (the period "
                   "must divide an hour, or a day in whole hours, and the anchor must sit on it)",
                   "use a cron schedule, or a rate that divides a day (e.g. '15 minutes', '6 hours', '1 day')")


def _aws_rate(seconds: int, schedule: Schedule) -> Native:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            value = seconds // size
            expr = f"rate({value} {unit}{'s' if value != 1 else ''})"
            break
    native = _with_bounds(Native("aws", expr, None, {}, ("EventBridge Scheduler counts the rate from StartDate",)),
                          schedule)
    assert isinstance(native, Native)
    return native


def _rate_as_utc_cron(period: int, anchor: int) -> str | None:
    """Return the UTC cron line firing at anchor + k*period, or None if cron cannot express it."""
    if period % 60 or anchor % 60:
        return None
    offset = anchor % period
    if 3600 % period == 0:
        minutes = sorted({(offset + k * period) % 3600 // 60 for k in range(3600 // period)})
        return f"{r.unix_field(frozenset(minutes), 0, 59)} * * * *"
    if period % 3600 == 0 and 86400 % period == 0:
        minute = offset % 3600 // 60
        hours = sorted({(offset + k * period) % 86400 // 3600 for k in range(86400 // period)})
        return f"{minute} {r.unix_field(frozenset(hours), 0, 23)} * * *"
    return None


_CRON = {"aws": _aws, "azure": _azure, "gcp": _gcp}
