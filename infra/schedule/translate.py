"""Translate a canonical schedule into each platform's native form, or refuse with a reason a user can act on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from infra.model import Schedule
from infra.schedule import render as r
from infra.schedule.canonical import CronSpec, CronSyntaxError, parse_cron, parse_rate
from infra.schedule.tzmap import UnknownZone, same_offsets, zone_map
from infra.schedule.zones import windows_id

PLATFORMS = ("aws", "azure", "gcp", "cron", "systemd")
UTC_NAMES = ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu")
AZURE_LOCAL_ZONE_PLANS = ("premium", "dedicated")


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
        if schedule.kind == "rate":
            return _rate(schedule, platform, azure_plan, azure_os, host_timezone)
        spec = parse_cron(schedule.expression)
    except (CronSyntaxError, UnknownZone) as exc:
        return Refusal(platform, str(exc), "fix the schedule in the workflow (see docs/schedules.md)")
    return _CRON[platform](spec, schedule.timezone, azure_plan, azure_os, host_timezone)


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
    elif spec.dow_restricted:
        dom, dow = "?", r.dow_names(spec.dows, r.DAY_NAMES, "-")
    else:
        dom, dow = "*", "?"
    notes = ("day-of-week uses names: AWS numbers weekdays 1-7 from Sunday",) if spec.dow_restricted else ()
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
        notes = ("NCRONTAB ANDs day and day-of-week, so days 1-7 with a weekday is 'the first such weekday'",)
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
        return Refusal("gcp", f"Google Cloud Scheduler has no '#' for '{r.DAY_NAMES[spec.nth_dow[0]]}#"
                       f"{spec.nth_dow[1]}', and unix cron ORs day-of-month with day-of-week, so 'days 1-7 and "
                       "Monday' cannot be written either",
                       "use a day-of-month schedule (e.g. '0 9 1 * *'), or drop gcp from this workflow's targets")
    return Native("gcp", _unix_line(spec), tz, {"time_zone": tz})


def _unix_line(spec: CronSpec) -> str:
    dom = r.unix_field(spec.doms, 1, 31) if spec.dom_restricted else "*"
    dow = r.unix_field(spec.dows, 0, 6) if spec.dow_restricted else "*"
    return (f"{r.unix_field(spec.minutes, 0, 59)} {r.unix_field(spec.hours, 0, 23)} {dom} "
            f"{r.unix_field(spec.months, 1, 12)} {dow}")


def _cron(spec: CronSpec, tz: str, _plan: str, _os: str, host: str) -> Native | Refusal:
    guard = {"guard_expression": spec.source, "guard_timezone": tz}
    if not _same_zone(tz, host):
        whole_hours = _hour_aligned(tz, host)
        minute = r.unix_field(spec.minutes, 0, 59) if whole_hours else "*"
        why = "whose offsets differ by whole hours" if whole_hours else "whose offsets differ by a fraction of an hour"
        return Native("cron", f"{minute} * * * *", host, guard, (
            f"Debian cron runs in the host zone {host} (no CRON_TZ) {why} from {tz}; this line fires on a superset "
            "of minutes and the on-prem runner's time-zone guard (canonical.fires_at_minute) keeps only the "
            "canonical instants",))
    if not r.has_day_extras(spec):
        return Native("cron", _unix_line(spec), host)
    if spec.last_dom:
        dom = "28-31"
    else:
        assert spec.nth_dow is not None
        dom = "{}-{}".format(*r.nth_days(spec.nth_dow[1]))
    line = f"{r.unix_field(spec.minutes, 0, 59)} {r.unix_field(spec.hours, 0, 23)} {dom} " \
           f"{r.unix_field(spec.months, 1, 12)} *"
    return Native("cron", line, host, guard, ("crontab has no 'L' or '#': this line fires on a superset of days "
                                              "and the on-prem runner's guard keeps only the canonical days",))


def _systemd(spec: CronSpec, tz: str, _plan: str, _os: str, _host: str) -> Native | Refusal:
    months = r.pad_systemd(r.systemd_field(spec.months, 1, 12))
    days, weekdays, from_end = "*", "", False
    if spec.last_dom:
        days, from_end = "01", True
    elif spec.nth_dow is not None:
        first, last = r.nth_days(spec.nth_dow[1])
        days, weekdays = f"{first:02d}..{last:02d}", r.SYSTEMD_DAYS[spec.nth_dow[0]]
    elif spec.dom_restricted:
        days = r.pad_systemd(r.systemd_field(spec.doms, 1, 31))
    elif spec.dow_restricted:
        weekdays = r.dow_names(spec.dows, r.SYSTEMD_DAYS, "..")
    hours = r.pad_systemd(r.systemd_field(spec.hours, 0, 23))
    minutes = r.pad_systemd(r.systemd_field(spec.minutes, 0, 59))
    time = f"{hours}:{minutes}:00"
    zone = "UTC" if is_utc(tz) else tz
    expr = f"{weekdays + ' ' if weekdays else ''}*-{months}{'~' if from_end else '-'}{days} {time} {zone}"
    return Native("systemd", expr, zone, {"AccuracySec": "1s", "RandomizedDelaySec": "0"},
                  ("AccuracySec=1s: systemd's default accuracy is 1min",))


def _same_zone(a: str, b: str) -> bool:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return a == b or same_offsets(a, b, now - 366 * 86400, now + 3 * 366 * 86400)


def _hour_aligned(a: str, b: str) -> bool:
    """Tell whether every offset (and DST shift) of the two zones differs by whole hours, now and for 3 years."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    offsets = set()
    for name in (a, b):
        zmap = zone_map(name)
        offsets.add(zmap.offset_at(now))
        for t in zmap.transitions(now - 366 * 86400, now + 3 * 366 * 86400):
            offsets.update((t.before, t.after))
    return all((x - y) % 3600 == 0 for x in offsets for y in offsets)


def _rate(schedule: Schedule, platform: str, plan: str, os_name: str, host: str) -> Native | Refusal:
    seconds = parse_rate(schedule.expression)
    anchor = int(schedule.start.timestamp()) if schedule.start else 0
    if platform == "aws":
        return _aws_rate(seconds, schedule)
    utc = _rate_as_utc_cron(seconds, anchor)
    if utc is None:
        return Refusal(platform, f"a rate of {schedule.expression} anchored at "
                       f"{dt.datetime.fromtimestamp(anchor, dt.UTC).isoformat()} is not a cron schedule "
                       "(the period must divide an hour, or a day in whole hours, and the anchor must sit on it)",
                       "use a cron schedule, or a rate that divides a day (e.g. '15 minutes', '6 hours', '1 day')")
    as_cron = Schedule("cron", utc, "UTC")
    native = translate(as_cron, platform, azure_plan=plan, azure_os=os_name, host_timezone=host)
    if isinstance(native, Native):
        return Native(native.platform, native.expression, native.timezone, native.settings,
                      (*native.notes, f"rate {schedule.expression} written as the UTC cron '{utc}'"))
    return native


def _aws_rate(seconds: int, schedule: Schedule) -> Native:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            value = seconds // size
            expr = f"rate({value} {unit}{'s' if value != 1 else ''})"
            break
    settings = {"StartDate": schedule.start.astimezone(dt.UTC).isoformat()} if schedule.start else {}
    note = "EventBridge Scheduler counts the rate from StartDate" if schedule.start else \
        "no start given: EventBridge Scheduler counts from creation, the canonical rate from the Unix epoch"
    return Native("aws", expr, None, settings, (note,))


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


_CRON = {"aws": _aws, "azure": _azure, "gcp": _gcp, "cron": _cron, "systemd": _systemd}
