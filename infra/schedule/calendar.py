"""The calendar model every dialect parses into: which local dates match, and which times of day.

A `CalendarSpec` is dialect-neutral. What differs between platforms is captured at parse time: how day-of-month
and day-of-week combine (`DayRule.combine_or`), and which extra day forms exist (L, nW, n#k, nL, systemd `~`).
What a platform does with the resulting wall times at a DST transition lives in `policies.py`.
Walls are local seconds since 1970-01-01T00:00 (see tzmap.py).
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

ALL_DOMS = frozenset(range(1, 32))
ALL_DOWS = frozenset(range(7))
ALL_MONTHS = frozenset(range(1, 13))
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
MAX_SEARCH_YEARS = 200  # AWS accepts years up to 2199; a spec matching nothing stops here


@dataclass(frozen=True)
class DayRule:
    """Which dates match. A field "any" is unrestricted; both restricted combine by OR or AND."""

    months: frozenset[int] = ALL_MONTHS
    doms: frozenset[int] = ALL_DOMS
    dom_from_end: frozenset[int] = frozenset()  # 0 = last day (L), k = L-k, systemd "~"
    dom_weekday_near: frozenset[int] = frozenset()  # AWS nW: weekday nearest day n; 0 = LW
    dom_any: bool = True
    dows: frozenset[int] = ALL_DOWS  # 0 = Sunday
    dow_nth: frozenset[tuple[int, int]] = frozenset()  # (weekday, n): n-th weekday of the month
    dow_last: frozenset[int] = frozenset()  # last such weekday of the month (AWS nL)
    dow_any: bool = True
    years: frozenset[int] | None = None
    combine_or: bool = False

    def month_days(self, year: int, month: int) -> frozenset[int]:
        """Return the days of this month that match."""
        if month not in self.months or (self.years is not None and year not in self.years):
            return frozenset()
        first_wd, ndays = _cal.monthrange(year, month)
        first_wd = (first_wd + 1) % 7  # calendar: Monday=0; here Sunday=0
        dom = None if self.dom_any else self._dom_days(first_wd, ndays)
        dow = None if self.dow_any else self._dow_days(first_wd, ndays)
        if dom is None and dow is None:
            return frozenset(range(1, ndays + 1))
        if dom is None or dow is None:
            return dom if dow is None else dow  # type: ignore[return-value]
        return dom | dow if self.combine_or else dom & dow

    def matches(self, day: dt.date) -> bool:
        """Tell whether a local date matches."""
        return day.day in self.month_days(day.year, day.month)

    def _dom_days(self, first_wd: int, ndays: int) -> frozenset[int]:
        days = {d for d in self.doms if d <= ndays}
        days.update(ndays - k for k in self.dom_from_end if ndays - k >= 1)
        for n in self.dom_weekday_near:
            days.add(_nearest_weekday(ndays if n == 0 else n, first_wd, ndays))
        return frozenset(d for d in days if d <= ndays)

    def _dow_days(self, first_wd: int, ndays: int) -> frozenset[int]:
        days = {d for d in range(1, ndays + 1) if (first_wd + d - 1) % 7 in self.dows} if self.dows else set()
        for weekday, n in self.dow_nth:
            d = 1 + (weekday - first_wd) % 7 + 7 * (n - 1)
            if d <= ndays:
                days.add(d)
        for weekday in self.dow_last:
            days.add(ndays - (first_wd + ndays - 1 - weekday) % 7)
        return frozenset(days)


def _nearest_weekday(n: int, first_wd: int, ndays: int) -> int:
    """Return the weekday (Mon-Fri) nearest day n, staying in the month (Quartz/AWS `W`)."""
    if n > ndays:
        return 99  # no such day: matches nothing
    wd = (first_wd + n - 1) % 7
    if wd == 6:  # Saturday -> Friday, or Monday if the 1st
        return n - 1 if n > 1 else n + 2
    if wd == 0:  # Sunday -> Monday, or Friday if the last day
        return n + 1 if n < ndays else n - 2
    return n


@dataclass(frozen=True)
class CalendarSpec:
    """Matching dates plus times of day; `times` are sorted seconds after local midnight."""

    day: DayRule
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    _months: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def times(self) -> tuple[int, ...]:
        """Return the matching seconds-of-day in order."""
        cached = self._months.get((0, 0))
        if cached is None:
            cached = tuple(sorted(h * 3600 + m * 60 + s for h in self.hours for m in self.minutes
                                  for s in self.seconds))
            self._months[(0, 0)] = cached
        return cached

    def days_in(self, year: int, month: int) -> tuple[int, ...]:
        """Return the matching days of a month in order (memoised on this spec only)."""
        got = self._months.get((year, month))
        if got is None:
            got = tuple(sorted(self.day.month_days(year, month)))
            self._months[(year, month)] = got
        return got

    def next_wall(self, wall: int) -> int | None:
        """Return the first matching wall strictly after `wall`, or None within MAX_SEARCH_YEARS."""
        times = self.times
        day_no, tod = divmod(wall, 86400)
        date = dt.date.fromordinal(day_no + EPOCH_ORDINAL)
        if date.day in self.days_in(date.year, date.month):
            i = bisect_right(times, tod)
            if i < len(times):
                return day_no * 86400 + times[i]
        nxt = self.next_day(date)
        return None if nxt is None else (nxt.toordinal() - EPOCH_ORDINAL) * 86400 + times[0]

    def next_day(self, date: dt.date) -> dt.date | None:
        """Return the first matching date strictly after `date`."""
        year, month, after = date.year, date.month, date.day
        for _ in range(12 * MAX_SEARCH_YEARS):
            days = self.days_in(year, month)
            i = bisect_right(days, after)
            if i < len(days):
                return dt.date(year, month, days[i])
            year, month, after = (year + 1, 1, 0) if month == 12 else (year, month + 1, 0)
        return None

    def walls(self, after: int) -> Iterator[int]:
        """Yield matching walls strictly after `after`, in order."""
        wall: int | None = after
        while wall is not None:
            wall = self.next_wall(wall)
            if wall is not None:
                yield wall


def wall_date(wall: int) -> dt.date:
    """Return the local date of a wall."""
    return dt.date.fromordinal(wall // 86400 + EPOCH_ORDINAL)


def date_wall(day: dt.date) -> int:
    """Return the wall of local midnight on a date."""
    return (day.toordinal() - EPOCH_ORDINAL) * 86400


def wall_iso(wall: int) -> str:
    """Render a wall as a local ISO time without offset (for messages)."""
    return dt.datetime.fromtimestamp(wall, dt.UTC).replace(tzinfo=None).isoformat()
