"""Map wall-clock times of an IANA zone to UTC instants in integer seconds, DST gaps and overlaps made explicit.

Every evaluator works on "walls": seconds since 1970-01-01T00:00 of the local calendar, as if the local clock
were UTC. A wall maps to zero instants (inside a spring-forward gap), one, or two (inside a fall-back overlap).
Transitions are found once per zone and year by probing zoneinfo and bisecting to the second; zoneinfo only
exposes offsets, not its transition list.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC
# Names the tz database gives UTC (one list: translate, platforms and the on-prem probe use it).
UTC_NAMES = ("UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu")
_PROBE_STEP = 2 * 86400  # no zone changes its offset twice within two days


class UnknownZone(ValueError):
    """A zone name the tz database does not know."""


@dataclass(frozen=True)
class Transition:
    """One offset change: at UTC instant `at` the offset goes from `before` to `after` (seconds east of UTC)."""

    at: int
    before: int
    after: int

    @property
    def is_gap(self) -> bool:
        """Tell whether clocks jump forward here (walls in the band do not exist)."""
        return self.after > self.before

    @property
    def band(self) -> tuple[int, int]:
        """Return the wall range [lo, hi) that does not exist (gap) or exists twice (overlap)."""
        return self.at + min(self.before, self.after), self.at + max(self.before, self.after)


class ZoneMap:
    """Offsets and transitions of one zone, extended year by year as evaluators ask for them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._zone = _zone(name)
        self._years: set[int] = set()
        self._transitions: list[Transition] = []
        self._band_lo: list[int] = []
        self._bands: list[tuple[int, int]] = []
        self._span = (0, -1)  # UTC seconds covered by the loaded years
        self._at: list[int] = []
        self._fixed = _offset(self._zone, 0)

    def offset_at(self, instant: int) -> int:
        """Return the UTC offset in seconds in force at a UTC instant."""
        if not self._span[0] + 172800 <= instant <= self._span[1] - 172800:
            self._cover(instant - 2 * 86400, instant + 2 * 86400)
        i = bisect_right(self._at, instant) - 1
        if i >= 0:
            return self._transitions[i].after
        return self._transitions[0].before if self._transitions else self._fixed

    def transitions(self, lo: int, hi: int) -> list[Transition]:
        """Return the transitions with lo <= at < hi (UTC seconds)."""
        self._cover(lo - 86400, hi + 86400)
        return [t for t in self._transitions if lo <= t.at < hi]

    def resolve(self, wall: int) -> tuple[int, ...]:
        """Return the instants at which the local clock shows `wall`: (), (t,) or (first, second)."""
        if not self._span[0] + 172800 <= wall <= self._span[1] - 172800:
            self._cover(wall - 2 * 86400, wall + 2 * 86400)
        i = bisect_right(self._band_lo, wall) - 1
        if i < 0:
            first = self._transitions[0].before if self._transitions else self._fixed
            return (wall - first,)
        trans = self._transitions[i]
        if wall < self._bands[i][1]:
            return () if trans.after > trans.before else (wall - trans.before, wall - trans.after)
        return (wall - trans.after,)

    def transition_near(self, wall: int) -> Transition | None:
        """Return the transition whose band contains `wall`, or None if the wall is unambiguous."""
        trans = self._near(wall)
        if trans is not None and trans.band[0] <= wall < trans.band[1]:
            return trans
        return None

    def max_offset(self, instant: int) -> int:
        """Return the largest offset in force within a year of `instant` (orders instants found in wall order)."""
        self._cover(instant - 2 * 86400, instant + 366 * 86400)
        offsets = [o for t in self._transitions for o in (t.before, t.after)]
        return max(offsets) if offsets else self.offset_at(instant)

    def _near(self, wall: int) -> Transition | None:
        """Return the latest transition whose band starts at or before `wall` (bands never overlap)."""
        self._cover(wall - 2 * 86400, wall + 2 * 86400)
        i = bisect_right(self._band_lo, wall) - 1
        return self._transitions[i] if i >= 0 else None

    def _cover(self, lo: int, hi: int) -> None:
        if self._span[0] <= lo and hi <= self._span[1]:
            return
        first = dt.datetime.fromtimestamp(lo, UTC).year
        last = dt.datetime.fromtimestamp(hi, UTC).year
        if self._years:  # keep the covered years contiguous so "latest transition before" is always right
            first, last = min(first, min(self._years)), max(last, max(self._years))
        missing = [y for y in range(first, last + 1) if y not in self._years]
        for year in missing:
            self._years.add(year)
            self._transitions.extend(_year_transitions(self._zone, year))
        self._transitions.sort(key=lambda t: t.at)
        self._bands = [t.band for t in self._transitions]
        self._band_lo = [b[0] for b in self._bands]
        self._at = [t.at for t in self._transitions]
        if not self._transitions:  # a constant offset over the loaded years (it may have differed in 1970)
            self._fixed = _offset(self._zone, lo)
        self._span = (int(dt.datetime(first, 1, 1, tzinfo=UTC).timestamp()),
                      int(dt.datetime(last + 1, 1, 1, tzinfo=UTC).timestamp()) - 1)


def _year_transitions(zone: ZoneInfo, year: int) -> list[Transition]:
    start = int(dt.datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(dt.datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    found: list[Transition] = []
    prev_t, prev_off = start, _offset(zone, start)
    t = start
    while t < end:
        t = min(t + _PROBE_STEP, end)
        off = _offset(zone, t)
        if off != prev_off:
            at = _bisect_change(zone, prev_t, t, prev_off)
            found.append(Transition(at, prev_off, off))
        prev_t, prev_off = t, off
    return found


def _bisect_change(zone: ZoneInfo, lo: int, hi: int, lo_off: int) -> int:
    """Return the first second in (lo, hi] whose offset differs from lo_off."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(zone, mid) == lo_off:
            lo = mid
        else:
            hi = mid
    return hi


def _offset(zone: ZoneInfo, instant: int) -> int:
    off = dt.datetime.fromtimestamp(instant, zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZone(f"time zone {name!r} is not in the tz database; use an IANA name such as "
                          "'Europe/Berlin' or 'UTC'") from exc


@lru_cache(maxsize=512)
def zone_map(name: str) -> ZoneMap:
    """Return the (shared, lazily extended) map of one zone; tz data is global, like zoneinfo's own cache."""
    return ZoneMap(name)


def wall_of(instant: int, zmap: ZoneMap) -> int:
    """Return the wall (local seconds) shown by the zone's clock at a UTC instant."""
    return instant + zmap.offset_at(instant)


def to_epoch(when: dt.datetime) -> int:
    """Return whole UTC seconds of an aware datetime (sub-second parts are dropped)."""
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no time zone; give an offset such as 'Z' or '+01:00'")
    return int(when.timestamp() // 1)


def from_epoch(instant: int) -> dt.datetime:
    """Return the aware UTC datetime of an instant."""
    return dt.datetime.fromtimestamp(instant, UTC)


def same_offsets(a: str, b: str, lo: int, hi: int) -> bool:
    """Tell whether two zones keep the same offsets over [lo, hi) (e.g. 'UTC' and 'Etc/UTC')."""
    if a == b:
        return True
    za, zb = zone_map(a), zone_map(b)
    ta, tb = za.transitions(lo, hi), zb.transitions(lo, hi)
    return ta == tb and za.offset_at(lo) == zb.offset_at(lo)
