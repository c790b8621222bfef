"""Render canonical value sets in each dialect's field syntax (steps, ranges, lists, names)."""

from __future__ import annotations

from infra.schedule.canonical import CronSpec
from infra.schedule.cronfields import render_values

DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def step_of(values: frozenset[int], low: int, high: int) -> tuple[int, int] | None:
    """Return (start, step) if values == range(start, high + 1, step) with at least 3 values, else None."""
    ordered = sorted(values)
    if len(ordered) < 3:
        return None
    step = ordered[1] - ordered[0]
    if step < 2 or ordered != list(range(ordered[0], high + 1, step)):
        return None
    return ordered[0], step


def unix_field(values: frozenset[int], low: int, high: int) -> str:
    """Render for crontab/Google/NCRONTAB: '*', '*/n', 'a-high/n', runs and lists."""
    stepped = step_of(values, low, high)
    if stepped:
        start, step = stepped
        return f"*/{step}" if start == low else f"{start}-{high}/{step}"
    return render_values(values, low, high)


def aws_field(values: frozenset[int], low: int, high: int) -> str:
    """Render for EventBridge: '*', 'a/n' (documented form), runs and lists."""
    stepped = step_of(values, low, high)
    if stepped:
        return f"{stepped[0]}/{stepped[1]}"
    return render_values(values, low, high)


def weekdays_restricted(spec: CronSpec) -> bool:
    """Tell whether day-of-week really restricts: a full set ('0-6', 'SUN-SAT', '*/1') is no restriction."""
    return spec.dow_restricted and spec.dows != frozenset(range(7))


def dow_names(days: frozenset[int], names: tuple[str, ...], sep: str) -> str:
    """Render weekdays (0 = Sunday) as name runs, e.g. MON-FRI; refuse a full set, which is unrestricted."""
    text = render_values(days, 0, 6)
    if text == "*":
        raise ValueError("every weekday is no weekday restriction; test weekdays_restricted() first")
    return ",".join(sep.join(names[int(p)] for p in item.split("-")) for item in text.split(","))


def nth_days(n: int) -> tuple[int, int]:
    """Return the day-of-month range holding the n-th weekday of a month."""
    return 7 * (n - 1) + 1, min(7 * n, 31)
