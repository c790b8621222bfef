"""What each platform does with a matching wall time at a DST transition, and the shared fire iterators.

A "mapper" turns one matching wall into the instants the platform fires for it. Mappers see three cases
(tzmap.ZoneMap.resolve): a normal wall (one instant), a wall inside a spring-forward gap (no instant exists),
and a wall inside a fall-back overlap (two instants, `first` then `second`). Platforms whose rule depends on
the previous fire (Azure, systemd) have their own iterators in their dialect modules.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

from infra.schedule.calendar import CalendarSpec
from infra.schedule.tzmap import Transition, ZoneMap, wall_of

Mapper = Callable[[int], tuple[int, ...]]
LOOKBACK = 3 * 3600  # an instant after `after` can belong to a wall up to one DST shift earlier


def canonical_mapper(zmap: ZoneMap, point_in_time: bool) -> Mapper:
    """Canonical meaning (see canonical.py): point-in-time shifts out of a gap and fires once (first) in an
    overlap; interval schedules fire every instant whose wall time matches (none in a gap, both in an overlap)."""
    return _fixed_time_mapper(zmap, point_in_time, lambda wall, trans: wall - trans.before)


def skip_gap_first_overlap(zmap: ZoneMap) -> Mapper:
    """Skip walls in a gap; fire once, at the first occurrence, in an overlap (AWS Scheduler [A4]; Google assumed)."""
    def mapper(wall: int) -> tuple[int, ...]:
        return zmap.resolve(wall)[:1]
    return mapper


def debian_mapper(zmap: ZoneMap, fixed_time: bool) -> Mapper:
    """Debian cron [C2]: a fixed-time job whose time was skipped runs at the change (first real minute); a
    fixed-time job in the repeated hour runs once (first); wildcard jobs follow the clock (none in a gap, both
    passes in an overlap). Fixed-time = minute and hour fields do not start with '*' (cron.c, cronsim)."""
    return _fixed_time_mapper(zmap, fixed_time, lambda _wall, trans: trans.at)


def _fixed_time_mapper(zmap: ZoneMap, fixed_time: bool, in_gap: Callable[[int, Transition], int]) -> Mapper:
    """Map walls as the clock does; a fixed time fires at its first pass in an overlap, at in_gap() in a gap."""
    def mapper(wall: int) -> tuple[int, ...]:
        instants = zmap.resolve(wall)
        if not fixed_time or len(instants) == 1:
            return instants
        if instants:
            return instants[:1]
        trans = zmap.transition_near(wall)
        return (in_gap(wall, trans),) if trans is not None else ()
    return mapper


def iter_mapped(spec: CalendarSpec, zmap: ZoneMap, after: int, mapper: Mapper) -> Iterator[int]:
    """Yield the instants strictly after `after` in ascending order, each once."""
    high = zmap.max_offset(after)
    heap: list[int] = []
    last = after
    for wall in spec.walls(wall_of(after, zmap) - LOOKBACK):
        for instant in mapper(wall):
            if instant > after:
                heapq.heappush(heap, instant)
        # Every later wall maps to an instant >= wall - high, so smaller buffered instants are final.
        while heap and heap[0] < wall - high:
            instant = heapq.heappop(heap)
            if instant > last:
                last = instant
                yield instant
    while heap:
        instant = heapq.heappop(heap)
        if instant > last:
            last = instant
            yield instant


def iter_rate(anchor: int, period: int, after: int) -> Iterator[int]:
    """Yield anchor + k*period (k >= 0) strictly after `after`: elapsed time, no DST effect."""
    k = 0 if after < anchor else (after - anchor) // period + 1
    while True:
        yield anchor + k * period
        k += 1


def take(instants: Iterator[int], count: int, until: int | None = None) -> list[int]:
    """Return up to `count` instants, stopping before `until` if given."""
    out: list[int] = []
    for instant in instants:
        if until is not None and instant >= until:
            break
        out.append(instant)
        if len(out) >= count:
            break
    return out
