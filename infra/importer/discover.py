"""List every scheduled workflow each platform runs and normalize it into the canonical model where it can.

Each target's `live.py` has a `discover(stack, connect)` (imported on demand: the vendor SDKs load only for
`lockstep import`). A schedule is representable when it calls a function (or a command, on a host) and its native
expression has a canonical form; otherwise the item says why not.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from infra.drift.adopt import canonical_cron
from infra.errors import LockstepError
from infra.model import Schedule, StackConfig
from infra.schedule import systemd
from infra.schedule.canonical import CronSyntaxError, parse_cron, parse_rate
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.platforms import BY_TARGET_PLATFORM, evaluator
from infra.schedule.translate import Native
from infra.schedule.zones import iana_for_windows
from infra.targets.discovered import Discovered, Discovery

Discoverer = Callable[[StackConfig, Mapping[str, Any]], Discovery]
PLATFORM = {"aws": "aws", "azure": "azure", "gcp": "gcp", "onprem": "cron"}  # equivalence TargetContext.platform
CRON_MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
               "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
AWS_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
AZURE_SPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Item:
    """One discovered schedule: what the platform reports, its canonical schedule, or why it has none."""

    found: Discovered
    schedule: Schedule | None = None
    reason: str = ""  # why it is not a representable workflow ("" when it is)

    @property
    def key(self) -> str:
        """Return the item's identity in reports and on the command line: target:place:name."""
        return f"{self.found.target}:{self.found.place}:{self.found.name}"

    @property
    def native(self) -> Native:
        """Return the live schedule as the equivalence engine evaluates it."""
        f = self.found
        settings = {"WEBSITE_TIME_ZONE": f.timezone} if f.target == "azure" and f.timezone else {}
        return Native(platform_of(f), f.expression, f.timezone, settings)


@dataclass
class Inventory:
    """What discovery found on every target read, and where reading failed."""

    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)

    def representable(self) -> list[Item]:
        """Return the items that are workflows in the canonical model."""
        return [i for i in self.items if not i.reason]


def platform_of(found: Discovered) -> str:
    """Return the equivalence engine's platform of a discovered schedule (a host's cron or systemd)."""
    return found.dialect or PLATFORM[found.target]


def discoverer(target: str) -> Discoverer:
    """Return a target's `discover` (importing its vendor SDK now)."""
    found: Discoverer = importlib.import_module(f"infra.targets.{target}.live").discover
    return found


def discover(stack: StackConfig, targets: Sequence[str], connect: Mapping[str, Mapping[str, Any]] | None = None,
             discoverers: Mapping[str, Discoverer] | None = None) -> Inventory:
    """Read every target at once; normalize what each found; a failing target is reported, the others kept."""
    def one(target: str) -> Discovery:
        try:
            read = (discoverers or {}).get(target) or discoverer(target)
            live = importlib.import_module(f"infra.targets.{target}.live")
            return read(stack, dict((connect or {}).get(target) or live.connect_from_env(os.environ)))
        except Exception as exc:  # an SDK that cannot even start: say so, go on with the other targets
            if os.environ.get("LOCKSTEP_DEBUG"):
                raise
            return Discovery(target, errors=[f"{target}: {type(exc).__name__}: {exc}"])

    out = Inventory()
    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:
        for got in pool.map(one, sorted(targets)):
            out.items.extend(normalize(f) for f in got.found)
            out.errors.extend(got.errors)
            out.calls[got.target] = got.calls
    out.items.sort(key=lambda i: i.key)
    return out


def claim(inv: Inventory, adopted: Mapping[tuple[str, str], str]) -> Inventory:
    """Mark every item an import record adopts as managed by its workflow (its stamps come with the next deploy)."""
    for n, item in enumerate(inv.items):
        workflow = adopted.get((item.found.target, item.found.live_id))
        if workflow and not item.found.managed:
            inv.items[n] = dataclasses.replace(item, found=dataclasses.replace(item.found, managed=workflow))
    return inv


def normalize(found: Discovered) -> Item:
    """Return the item with its canonical schedule, or with why it is not a workflow Lockstep can declare."""
    if found.not_a_workflow:
        return Item(found, reason=found.not_a_workflow)
    try:
        schedule = canonical_schedule(found)
    except (LockstepError, CronSyntaxError) as exc:
        return Item(found, reason=f"its schedule {found.expression!r} has no canonical form: "
                                  f"{str(exc).removeprefix('drift adopt: ')}")
    try:
        evaluator(BY_TARGET_PLATFORM[platform_of(found)], found.expression, found.timezone or "UTC")
    except NativeSyntaxError as exc:
        return Item(found, reason=f"its schedule {found.expression!r} is not valid on the platform: {exc}")
    return Item(found, schedule=schedule)


def canonical_schedule(found: Discovered) -> Schedule:
    """Return the canonical schedule of a native expression (raise LockstepError when there is none)."""
    zone = found.timezone or "UTC"
    if found.target == "azure" and "/" not in zone and zone != "UTC":  # Windows plans name zones the Windows way
        zone = iana_for_windows(zone) or zone
    expression = found.expression.strip()
    rate = _rate(found.target, expression)
    if rate:
        parse_rate(rate)
        return Schedule("rate", rate, zone)
    if found.dialect == "systemd":
        cron = systemd_cron(expression)
        parse_cron(cron)
        return Schedule("cron", cron, zone)
    if found.target == "onprem":
        expression = CRON_MACROS.get(expression, expression)
    cron = canonical_cron(PLATFORM[found.target], expression)
    parse_cron(cron)
    return Schedule("cron", cron, zone)


def _rate(target: str, expression: str) -> str:
    """Return a native rate as a canonical one ("15 minutes"), or "" when the expression is no rate."""
    m = AWS_RATE.match(expression) if target == "aws" else None
    if m:
        return f"{m.group(1)} {m.group(2)}"  # AWS takes "1 hour" and "2 hours", as the canonical form does
    span = AZURE_SPAN.match(expression) if target == "azure" else None
    if span:
        days, hours, minutes, seconds = (int(g or 0) for g in span.groups())
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        if total % 60:
            raise LockstepError(f"the interval {expression} is not a whole number of minutes")
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if total % size == 0:
                return f"{total // size} {unit}{'' if total == size else 's'}"
    return ""


def systemd_cron(expression: str) -> str:
    """Return the canonical cron of an OnCalendar expression (raise LockstepError where cron cannot say it)."""
    try:
        event = systemd.parse(expression)
    except NativeSyntaxError as exc:
        raise LockstepError(str(exc)) from None
    c, d = event.calendar, event.calendar.day
    if c.seconds != frozenset({0}):
        raise LockstepError("it fires at seconds other than :00, and cron counts whole minutes")
    if d.years is not None or d.dom_from_end or d.dom_weekday_near or d.dow_nth or d.dow_last:
        raise LockstepError("it names years or days counted from the month's end, which cron cannot")
    if not d.dom_any and not d.dow_any:
        raise LockstepError("it restricts both the day of the month and the weekday, which systemd ANDs and "
                            "cron ORs")
    return " ".join((_cron_field(c.minutes, 0, 59), _cron_field(c.hours, 0, 23),
                     "*" if d.dom_any else _cron_field(d.doms, 1, 31), _cron_field(d.months, 1, 12),
                     "*" if d.dow_any else _cron_field(d.dows, 0, 6)))


def _cron_field(values: frozenset[int], low: int, high: int) -> str:
    """Return a cron field for a set of values: `*`, or ranges and single values (`1-5`, `0,30`)."""
    if values == frozenset(range(low, high + 1)):
        return "*"
    runs: list[list[int]] = []
    for v in sorted(values):
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)
