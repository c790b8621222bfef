"""Debian cron (Vixie cron 3.0pl1): crontab(5) lines evaluated in the host's time zone.

Rules implemented here, with their sources (docs/schedules.md):
* five fields, day-of-week 0-7 (0 and 7 = Sunday), three-letter names only alone ("Ranges or lists of names are
  not allowed"), steps on ranges and '*' [C1]; `@yearly` ... `@hourly` macros; `@reboot` has no fire time;
* day-of-month/day-of-week OR, with the '*'-prefix rule (unixcron.py) [C1][C5];
* one zone only, the host's (/etc/timezone); no CRON_TZ [C2];
* DST [C2]: for clock changes under 3 hours, a fixed-time job (minute and hour fields not starting with '*')
  whose time was skipped runs "soon after the change" — at the first minute after the gap, as cronsim does —
  and one in the repeated hour is "not re-run" (first pass only); wildcard jobs follow the new clock (no run for
  skipped minutes, both passes of the repeated hour).
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.policies import debian_mapper, iter_mapped
from infra.schedule.tzmap import zone_map
from infra.schedule.unixcron import UnixCron, parse_unix

MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}


def parse(expression: str) -> UnixCron:
    """Parse the schedule part of a crontab line as Debian cron does, or raise NativeSyntaxError."""
    text = expression.strip()
    if text.startswith("@"):
        if text == "@reboot":
            raise NativeSyntaxError("cron: '@reboot' runs at boot and has no fire times to compare")
        if text not in MACROS:
            raise NativeSyntaxError(f"cron: unknown macro {text!r}; Debian knows {', '.join(MACROS)}")
        text = MACROS[text]
    return parse_unix(text, "cron", names_in_ranges=False)


def iter_fires(parsed: UnixCron, host_zone: str, after: int) -> Iterator[int]:
    """Yield the instants strictly after `after` at which Debian cron in `host_zone` runs the line."""
    zmap = zone_map(host_zone)
    return iter_mapped(parsed.calendar, zmap, after, debian_mapper(zmap, parsed.fixed_time))
