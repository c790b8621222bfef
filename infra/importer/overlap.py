"""Group discovered workflows into exact duplicates, near-duplicates and unique ones, and say which to keep.

Exact: the same code digest and fire times the schedule equivalence engine proves equal over a year, whatever the
platform or zone. Near: the same code at different times, or the same times and code that differs only trivially
(the same entry point, runtime and variable names, or the same command once whitespace and output redirection
are ignored).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from infra.importer.discover import Item
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.equivalence import TargetContext, check
from infra.schedule.platforms import BY_TARGET_PLATFORM, fires

SAMPLE_FIRES = 40        # a cheap first filter: pairs whose next fires differ are never equivalent
HORIZON_DAYS = 400       # then the equivalence engine proves the rest over more than a year (two DST seasons)
REDIRECT = re.compile(r"\s*(\d?>>?\s*\S+|2>&1)")


@dataclass(frozen=True)
class Group:
    """Workflows that overlap: exact or near, the one to keep and why, and how they differ."""

    kind: str                 # exact | near
    members: tuple[str, ...]  # item keys
    keep: str
    why: str


@dataclass(frozen=True)
class Overlap:
    """The overlap report: the groups, the unique workflows and the share that overlaps."""

    groups: tuple[Group, ...]
    unique: tuple[str, ...]
    total: int

    @property
    def overlapping(self) -> int:
        """Return how many workflows belong to some group."""
        return sum(len(g.members) for g in self.groups)

    @property
    def share(self) -> float:
        """Return the share of workflows that overlap another (0 when there are none)."""
        return self.overlapping / self.total if self.total else 0.0

    def exact_extra(self) -> int:
        """Return how many workflows could be retired: every exact duplicate but the one kept."""
        return sum(len(g.members) - 1 for g in self.groups if g.kind == "exact")


def overlap(items: Sequence[Item], now: dt.datetime | None = None) -> Overlap:
    """Return the overlap of the representable items."""
    reps = sorted((i for i in items if not i.reason), key=lambda i: i.key)
    after = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
    sample = {i.key: _sample(i, after) for i in reps}
    exact: list[tuple[int, int]] = []
    near: list[tuple[int, int]] = []
    for a in range(len(reps)):
        for b in range(a + 1, len(reps)):
            x, y = reps[a], reps[b]
            same_time = bool(sample[x.key]) and sample[x.key] == sample[y.key] and _equivalent(x, y, after)
            same_code = bool(x.found.code) and x.found.code == y.found.code
            if same_code and same_time:
                exact.append((a, b))
            elif (same_code and not same_time) or (same_time and _trivially_same(x, y)):
                near.append((a, b))
    exact_sets = _components(len(reps), exact)
    groups = [_exact_group([reps[i] for i in sorted(s)]) for s in exact_sets]
    in_exact = {i for s in exact_sets for i in s}
    for s in _components(len(reps), exact + near):
        if not s <= in_exact or any(s > e for e in exact_sets):
            groups.append(_near_group([reps[i] for i in sorted(s)], sample))
    grouped = {k for g in groups for k in g.members}
    groups.sort(key=lambda g: (g.kind != "exact", g.members))
    return Overlap(tuple(groups), tuple(i.key for i in reps if i.key not in grouped), len(reps))


def _sample(item: Item, after: dt.datetime) -> tuple[dt.datetime, ...]:
    assert item.schedule is not None
    platform = BY_TARGET_PLATFORM[item.native.platform]
    try:
        return tuple(fires(platform, item.found.expression, after=after, count=SAMPLE_FIRES,
                           tz=item.native.timezone or "UTC"))
    except (NativeSyntaxError, ValueError):
        return ()


def _equivalent(x: Item, y: Item, after: dt.datetime) -> bool:
    """Tell whether y's platform fires its schedule at x's canonical instants over the horizon."""
    assert x.schedule is not None
    n = y.native
    ctx = TargetContext(y.found.target, n.platform, host_timezone=n.timezone or "UTC", native=n)
    return all(v.equivalent for v in check(x.schedule, [ctx], horizon_days=HORIZON_DAYS, start=after))


def _trivially_same(x: Item, y: Item) -> bool:
    fx, fy = x.found, y.found
    if fx.target == fy.target == "onprem":
        return bool(fx.calls) and _command(fx.calls) == _command(fy.calls)
    # A generic entry point ("main.handler") alone says little: the variables the code reads must match too.
    return bool(fx.entry) and (fx.entry, _family(fx.runtime), sorted(fx.env)) == \
        (fy.entry, _family(fy.runtime), sorted(fy.env))


def _command(text: str) -> str:
    return " ".join(REDIRECT.sub("", text).split())


def _family(runtime: str) -> str:
    return "python" if "python" in runtime.lower() else runtime.lower()


def _components(n: int, edges: Sequence[tuple[int, int]]) -> list[set[int]]:
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[root(a)] = root(b)
    sets: dict[int, set[int]] = {}
    for a, b in edges:
        sets.setdefault(root(a), set()).update((a, b))
    return sorted(sets.values(), key=min)


def _exact_group(members: list[Item]) -> Group:
    managed = [m for m in members if m.found.managed]
    keep = (managed or members)[0]
    why = (f"stamped by Lockstep as {keep.found.managed!r}" if managed else
           "the first of identical copies; the others run the same code at the same instants")
    return Group("exact", tuple(m.key for m in members), keep.key, why)


def _near_group(members: list[Item], sample: dict[str, tuple[dt.datetime, ...]]) -> Group:
    first, rest = members[0], members[1:]
    notes = []
    for m in rest:
        if m.found.code and m.found.code == first.found.code:
            at = next((a for a, b in zip(sample[first.key], sample[m.key], strict=False) if a != b), None)
            notes.append(f"{m.key} runs the same code at other times"
                         + (f" (first differing fire {at:%Y-%m-%d %H:%M}Z)" if at else ""))
        else:
            notes.append(f"{m.key} fires at the same instants with code that differs only trivially")
    managed = [m for m in members if m.found.managed]
    keep = (managed or members)[0]
    return Group("near", tuple(m.key for m in members), keep.key,
                 "review before retiring any: " + "; ".join(notes))
