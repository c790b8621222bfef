"""Which local hours a zone's DST changes touch: the hours where a fixed-time schedule may fire differently."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from infra.model import Schedule
from infra.schedule.canonical import parse_cron


@lru_cache(maxsize=64)
def dst_hours(zone: str) -> frozenset[int]:
    """Return the local hours that a DST gap or overlap of the zone touches (this year and the next two)."""
    z, hours = ZoneInfo(zone), set()
    start = dt.datetime(dt.datetime.now(dt.UTC).year, 1, 1, tzinfo=dt.UTC)
    before = start.astimezone(z).utcoffset()
    for step in range(1, 3 * 366 * 24):
        t = start + dt.timedelta(hours=step)
        after = t.astimezone(z).utcoffset()
        if after != before and after is not None and before is not None:
            low, high = sorted(((t + before).replace(tzinfo=None), (t + after).replace(tzinfo=None)))
            while low < high:
                hours.add(low.hour)
                low += dt.timedelta(minutes=15)
        before = after
    return frozenset(hours)


def touches_dst(schedule: Schedule) -> bool:
    """Tell whether a cron schedule fires at a local hour that a DST change of its zone moves or repeats."""
    if schedule.kind != "cron":
        return False  # a rate counts absolute time
    return bool(parse_cron(schedule.expression).hours & dst_hours(schedule.timezone))
