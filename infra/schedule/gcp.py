"""Google Cloud Scheduler: unix-cron schedules with a `time_zone`.

Rules implemented here, with their sources (docs/schedules.md):
* five fields; day-of-week 0-6, or 7 for Sunday, or SUN-SAT; month JAN-DEC; `*`, `-`, `/`, `,` [G1];
* no `L` ("Cloud Scheduler does not support L"), no `#`, no `?`, no seconds [G1];
* day-of-month/day-of-week "inclusive OR, unless one of them is unrestricted (*)" [G1] — read as crontab's rule;
* `time_zone` is a tz database name, default Etc/UTC [G1][G2];
* DST: NOT DOCUMENTED beyond "jobs [may] run or not run unexpectedly ... execution anomalies" [G1].
  ASSUMED rule (the most defensible reading of "runs on wall clock time" and the behaviour of the other managed
  scheduler, AWS [A4]): a wall time inside the spring-forward gap never shows on the clock, so it does not fire;
  a wall time in the repeated hour fires once, at its first occurrence. Every instant this rule decides is
  reported as "assumed".
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.schedule.policies import iter_mapped, skip_gap_first_overlap
from infra.schedule.tzmap import zone_map
from infra.schedule.unixcron import UnixCron, parse_unix


def parse(expression: str) -> UnixCron:
    """Parse a Cloud Scheduler schedule, or raise NativeSyntaxError with the reason Google gives."""
    return parse_unix(expression, "gcp", names_in_ranges=True)


def iter_fires(parsed: UnixCron, zone: str, after: int) -> Iterator[int]:
    """Yield the instants strictly after `after` (DST behaviour assumed, see module doc)."""
    zmap = zone_map(zone)
    return iter_mapped(parsed.calendar, zmap, after, skip_gap_first_overlap(zmap))
