"""Which local hours a zone's DST changes touch: the hours where a fixed-time schedule may fire differently."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from infra.model import Schedule
from infra.schedule.canonical import parse_cron
from infra.schedule.tzmap import zone_map


@lru_cache(maxsize=64)
def dst_hours(zone: str) -> frozenset[int]:
    """Return the local hours that a DST gap or overlap of the zone touches (this year and the next two)."""
    start = int(dt.datetime(dt.datetime.now(dt.UTC).year, 1, 1, tzinfo=dt.UTC).timestamp())
    hours: set[int] = set()
    for t in zone_map(zone).transitions(start, start + 3 * 366 * 86400):
        low, high = t.band  # the walls a gap skips or an overlap repeats
        hours.update((wall // 3600) % 24 for wall in range(low, high, 900))
    return frozenset(hours)


def touches_dst(schedule: Schedule) -> bool:
    """Tell whether a cron schedule fires at a local hour that a DST change of its zone moves or repeats."""
    if schedule.kind != "cron":
        return False  # a rate counts absolute time
    return bool(parse_cron(schedule.expression).hours & dst_hours(schedule.timezone))
