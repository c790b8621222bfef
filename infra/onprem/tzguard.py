"""The time-zone guard's deploy-time half: which host-zone minutes the crontab line must cover.

Debian cron has no CRON_TZ and reads every line in the host's zone. So the crontab line runs the runner at a
superset of the canonical fire minutes, expressed in the host zone, at every hour of every day; the runner then
asks `canonical.fires_at_minute` whether this UTC minute really is a canonical fire and exits otherwise.

Superset rule: a canonical fire at UTC minute u has canonical wall minute (u + oc) mod 60 in the expression's
minute set, where oc is an offset the canonical zone uses (a point-in-time fire moved out of a DST gap uses the
pre-transition offset, also one of them). Its host wall minute is (u + oh) mod 60 for a host offset oh. So
{(m - oc + oh) mod 60} over the minute set and every pair of offsets the zones use covers every fire. Offsets are
sampled hourly over a horizon around now; a zone whose rules change later needs a redeploy (the digest of the
tz database is not part of the spec, so the pipeline's periodic drift run is what notices a changed line).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from infra.schedule import canonical

HORIZON_DAYS_BACK = 366
HORIZON_DAYS_AHEAD = 3 * 366


def cron_minute_field(kind: str, expression: str, canonical_tz: str, host_tz: str,
                      now: dt.datetime | None = None) -> str:
    """Return the crontab minute field (host zone) covering every canonical fire minute of the schedule."""
    if kind == "rate":
        canonical.parse_rate(expression)  # refuse a bad rate at deploy time, not at 3 a.m. on the host
        # A rate's fire minutes follow its anchor, not the wall clock: start every minute, the runner decides.
        return "*"
    minutes = canonical.parse_cron(expression).minutes
    if len(minutes) == 60:
        return "*"
    diffs = {(oh - oc) % 60 for oc in zone_offsets(canonical_tz, now) for oh in zone_offsets(host_tz, now)}
    host_minutes = sorted({(m + d) % 60 for m in minutes for d in diffs})
    return "*" if len(host_minutes) == 60 else ",".join(str(m) for m in host_minutes)


def zone_offsets(tz: str, now: dt.datetime | None = None) -> frozenset[int]:
    """Return the UTC offsets (whole minutes) a zone uses over the horizon around now."""
    day = (now or dt.datetime.now(dt.UTC)).date()
    return _offsets(tz, day.toordinal())


@lru_cache(maxsize=64)
def _offsets(tz: str, ordinal: int) -> frozenset[int]:
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time(), dt.UTC)
    start -= dt.timedelta(days=HORIZON_DAYS_BACK)
    found: set[int] = set()
    for hour in range((HORIZON_DAYS_BACK + HORIZON_DAYS_AHEAD) * 24):
        offset = (start + dt.timedelta(hours=hour)).astimezone(zone).utcoffset()
        found.add(int(offset.total_seconds() // 60) if offset is not None else 0)
    return frozenset(found)
