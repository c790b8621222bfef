"""Prove that each target fires a workflow at the canonical instants over a horizon, or say where and why not.

Symbolic, not minute by minute. Between two offset changes of a zone, a schedule's fires are "matching local
dates x times of day" shifted by one constant offset, so two schedules in the same zone agree there iff their
times of day and their matching dates agree (compared month by month, or structurally). The only places where
platform rules differ are the DST transitions, and only when a matching wall time falls inside the gap or the
repeated hour: those windows are simulated with each platform's own evaluator and compared instant by instant.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from infra.model import Schedule
from infra.schedule.calendar import CalendarSpec, DayRule, wall_date
from infra.schedule.canonical import CronSyntaxError
from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.model_bridge import CanonicalModel, canonical_model, normalized
from infra.schedule.platforms import BY_TARGET_PLATFORM, Evaluator, evaluator
from infra.schedule.policies import canonical_mapper, iter_mapped, iter_rate
from infra.schedule.translate import Native, Refusal, translate
from infra.schedule.tzmap import Transition, from_epoch, same_offsets, zone_map

# start-end: the target fires before the schedule's start or from its end on; translation-bug: Lockstep wrote a form
# the platform rejects (a bug to report, never a divergence to accept).
KINDS = ("dst-gap", "dst-overlap", "day-rule", "unsupported-zone", "start-end", "refused", "translation-bug")


@dataclass(frozen=True)
class TargetContext:
    """Where a workflow is deployed: target name, platform, and what decides its zone handling."""

    target: str
    platform: str  # aws | azure | gcp | cron | systemd
    azure_plan: str = "premium"
    azure_os: str = "linux"
    host_timezone: str = "UTC"
    native: Native | Refusal | None = None  # what was registered or deployed; None: translate the canonical schedule


@dataclass(frozen=True)
class Divergence:
    """One place where a target fires differently: the instants only one side has, and why."""

    kind: str
    canonical: tuple[str, ...]
    actual: tuple[str, ...]
    detail: str
    assumed: bool
    at: int  # first diverging instant (UTC seconds), for ordering


@dataclass(frozen=True)
class Verdict:
    """The equivalence result for one target: equivalent, or the first divergence and all others."""

    target: str
    platform: str
    equivalent: bool
    native: Native | Refusal
    divergences: tuple[Divergence, ...] = ()
    assumed: bool = False

    @property
    def first(self) -> Divergence | None:
        """Return the earliest divergence, if any."""
        return self.divergences[0] if self.divergences else None

    @property
    def kind(self) -> str | None:
        """Return the reason kind of the first divergence."""
        return self.divergences[0].kind if self.divergences else None


def check(schedule: Schedule, targets: Sequence[TargetContext], horizon_days: int = 400,
          start: dt.datetime | None = None) -> tuple[Verdict, ...]:
    """Compare the canonical fire instants with each target's over [start, start + horizon).

    The whole horizon is compared, also before the schedule's start and from its end on, where the canonical
    schedule fires nothing: a target that cannot stop (or start) on time diverges there.
    """
    outer_lo = int((start or dt.datetime.now(dt.UTC)).timestamp()) // 60 * 60
    outer = (outer_lo, outer_lo + horizon_days * 86400)
    lo = max(outer[0], int(schedule.start.timestamp())) if schedule.start is not None else outer[0]
    hi = min(outer[1], int(schedule.end.timestamp())) if schedule.end is not None else outer[1]
    try:
        model = canonical_model(schedule)
    except CronSyntaxError as exc:
        return tuple(_refused(t, Refusal(t.platform, str(exc), "fix the schedule"), lo) for t in targets)
    return tuple(_check_target(model, ctx, lo, hi, outer) for ctx in targets)


def _check_target(model: CanonicalModel, ctx: TargetContext, lo: int, hi: int, outer: tuple[int, int]) -> Verdict:
    native = ctx.native or translate(model.schedule, ctx.platform, azure_plan=ctx.azure_plan,
                                     azure_os=ctx.azure_os, host_timezone=ctx.host_timezone)
    if isinstance(native, Refusal):
        return _refused(ctx, native, lo)
    try:
        ev = _evaluator(ctx, native)
    except NativeSyntaxError as exc:  # a translation the platform would reject is a bug worth reporting loudly
        div = Divergence("translation-bug", (), (), f"Lockstep translated the schedule to {native.expression!r}, "
                         f"which {ctx.platform} rejects ({exc}): this is a bug in Lockstep; report it", False, lo)
        return Verdict(ctx.target, ctx.platform, False, native, (div,))
    guarded = "guard_expression" in native.settings
    found: list[Divergence] = [] if guarded else _compare_bounds(ev, lo, hi, outer)
    assumed = False
    if lo >= hi:
        pass  # the schedule is over (or not begun) for the whole horizon: only the bounds matter
    elif guarded and model.rate is not None:
        found.extend(_compare_guarded_rate(ev, lo))
    elif model.rate is not None and ev.rate is not None:
        found.extend(_compare_rates(model.rate, ev.rate, lo, hi))
    else:
        canon = _canonical_calendar(model)
        regular = _compare_regular(model, canon, ev, guarded, lo, hi)
        if regular is not None:
            found.append(regular)
        windows, assumed = _compare_windows(model, canon, ev, guarded, lo, hi)
        found.extend(windows)
    found.sort(key=lambda d: d.at)
    return Verdict(ctx.target, ctx.platform, not found, native, tuple(found), assumed)


def _evaluator(ctx: TargetContext, native: Native) -> Evaluator:
    """Return the evaluator of what is deployed; AWS fires only within StartDate <= t < EndDate."""
    tz = ctx.host_timezone if ctx.platform == "cron" else (native.timezone or "UTC")
    start, end = (native.settings.get(k) for k in ("StartDate", "EndDate"))
    ev = evaluator(BY_TARGET_PLATFORM[ctx.platform], native.expression, tz,
                   dt.datetime.fromisoformat(start) if start else None)
    if not (start or end):
        return ev
    first = int(dt.datetime.fromisoformat(start).timestamp()) if start else None
    stop = int(dt.datetime.fromisoformat(end).timestamp()) if end else None

    def bounded(after: int) -> Iterator[int]:
        for t in ev.iterate(after if first is None else max(after, first - 1)):
            if stop is not None and t >= stop:
                return
            yield t

    return dataclasses.replace(ev, iterate=bounded)


def _compare_bounds(ev: Evaluator, lo: int, hi: int, outer: tuple[int, int]) -> list[Divergence]:
    """Find target fires before the schedule's start or from its end on (the canonical schedule has none)."""
    found = []
    for what, a, b in (("before the schedule's start", outer[0], lo), ("from the schedule's end on", hi, outer[1])):
        first = next(ev.iterate(a - 1), None)
        if first is not None and first < b:
            found.append(Divergence("start-end", (), _iso([first]), f"{ev.platform} fires {what}: first at "
                                    f"{_iso([first])[0]}", False, first))
    return found


def _compare_guarded_rate(ev: Evaluator, lo: int) -> list[Divergence]:
    """A guarded rate is exact when the host starts the runner every minute (the guard keeps the rate's fires)."""
    pcal = ev.calendar
    if pcal is not None and len(set(pcal.times)) == 1440 and normalized(pcal.day) == normalized(DayRule()):
        return []
    return [Divergence("day-rule", (), (), f"the host line {ev.platform} does not start the runner every minute, "
                       "so the guard cannot keep every fire of the rate", False, lo)]


def _refused(ctx: TargetContext, refusal: Refusal, lo: int) -> Verdict:
    zone_words = ("zone", "WEBSITE_TIME_ZONE")
    kind = "unsupported-zone" if any(w in refusal.reason for w in zone_words) else "refused"
    div = Divergence(kind, (), (), f"{refusal.reason} — {refusal.fix}", False, lo)
    return Verdict(ctx.target, ctx.platform, False, refusal, (div,))


def _canonical_calendar(model: CanonicalModel) -> tuple[CalendarSpec, str, bool]:
    """Return (calendar, zone, point_in_time); a rate compared with a cron target becomes its UTC cron."""
    if model.calendar is not None:
        return model.calendar, model.zone, model.point_in_time
    assert model.rate is not None
    anchor, period = model.rate
    times = frozenset(((anchor + k * period) % 86400) for k in range(max(1, 86400 // period)))
    minutes = frozenset(t % 3600 // 60 for t in times)
    hours = frozenset(t // 3600 for t in times)
    return CalendarSpec(DayRule(), frozenset({0}), minutes, hours), "UTC", False


def _iter_canonical(canon: tuple[CalendarSpec, str, bool], after: int) -> Iterator[int]:
    cal, zone, pit = canon
    zmap = zone_map(zone)
    return iter_mapped(cal, zmap, after, canonical_mapper(zmap, pit))


def _compare_rates(canon: tuple[int, int], plat: tuple[int, int], lo: int, hi: int) -> list[Divergence]:
    a = list(itertools.islice(iter_rate(canon[0], canon[1], lo - 1), 3))
    b = list(itertools.islice(iter_rate(plat[0], plat[1], lo - 1), 3))
    if canon[1] == plat[1] and a == b:
        return []
    return [Divergence("day-rule", _iso(a), _iso(b), f"rate period/anchor differ: canonical every {canon[1]} s "
                       f"from {_iso([canon[0]])[0]}, target every {plat[1]} s from {_iso([plat[0]])[0]}",
                       False, min(a[0], b[0]))]


def _compare_regular(model: CanonicalModel, canon: tuple[CalendarSpec, str, bool], ev: Evaluator, guarded: bool,
                     lo: int, hi: int) -> Divergence | None:
    """Compare times of day and matching dates away from transitions; return the first difference."""
    cal, zone, _ = canon
    pcal = ev.calendar
    if pcal is None:
        return Divergence("day-rule", (), (), "the target fires on elapsed time, the canonical schedule on the "
                          "calendar", False, lo)
    if not same_offsets(zone, ev.zone, lo, hi):
        if guarded and _guard_superset(cal, zone, pcal, ev.zone, lo, hi):
            return None
        return _first_difference(canon, ev, guarded, lo, hi, "unsupported-zone",
                                 f"the target evaluates in {ev.zone}, the schedule is in {zone}")
    times_ok = set(cal.times) <= set(pcal.times) if guarded else cal.times == pcal.times
    days_ok = _days_agree(cal, pcal, guarded, lo, hi, zone)
    if times_ok and days_ok:
        return None
    what = "times of day differ" if not times_ok else "matching days differ"
    return _first_difference(canon, ev, guarded, lo, hi, "day-rule", what)


def _days_agree(cal: CalendarSpec, pcal: CalendarSpec, superset: bool, lo: int, hi: int, zone: str) -> bool:
    a, b = normalized(cal.day), normalized(pcal.day)
    if a == b or (superset and b == normalized(type(b)(months=b.months, years=b.years)) and a.months <= b.months
                  and b.years is None):
        return True
    zmap = zone_map(zone)
    first, last = wall_date(lo + zmap.offset_at(lo)), wall_date(hi + zmap.offset_at(hi))
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        da, db = a.month_days(year, month), b.month_days(year, month)
        if not (da <= db if superset else da == db):
            return False
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return True


def _guard_superset(cal: CalendarSpec, zone: str, pcal: CalendarSpec, pzone: str, lo: int, hi: int) -> bool:
    """Tell whether a guarded host line fires at every canonical minute (any day, all offset pairs)."""
    pday = normalized(pcal.day)
    if not (pday.dom_any and pday.dow_any and pday.months == frozenset(range(1, 13)) and pday.years is None):
        return False
    za, zb = zone_map(zone), zone_map(pzone)
    cuts = sorted({lo} | {t.at for t in za.transitions(lo, hi)} | {t.at for t in zb.transitions(lo, hi)})
    shifts = {zb.offset_at(c) - za.offset_at(c) for c in cuts}
    # Canonical walls shifted out of a gap land one DST shift later; include those shifts too.
    shifts |= {s + t.after - t.before for s in shifts for t in za.transitions(lo, hi) if t.is_gap}
    ptimes = set(pcal.times)
    return all((t + s) % 86400 in ptimes for t in cal.times for s in shifts)


def _first_difference(canon: tuple[CalendarSpec, str, bool], ev: Evaluator, guarded: bool, lo: int, hi: int,
                      kind: str, what: str) -> Divergence | None:
    """Walk both fire sequences from lo to the first disagreement (bounded by the horizon)."""
    a, b = _iter_canonical(canon, lo - 1), ev.iterate(lo - 1)
    ca, cb = next(a, None), next(b, None)
    while ca is not None or cb is not None:
        if guarded and cb is not None and (ca is None or cb < ca):
            cb = next(b, None)  # the runner's guard drops host fires that are not canonical
            continue
        if ca == cb:
            if ca is None or ca >= hi:
                return None
            ca, cb = next(a, None), next(b, None)
            continue
        at = min(x for x in (ca, cb) if x is not None)
        if at >= hi:
            return None
        return Divergence(kind, _iso([ca] if ca is not None else []), _iso([cb] if cb is not None else []),
                          f"{what}: first at {_iso([at])[0]}", False, at)
    return None


def _compare_windows(model: CanonicalModel, canon: tuple[CalendarSpec, str, bool], ev: Evaluator, guarded: bool,
                     lo: int, hi: int) -> tuple[list[Divergence], bool]:
    """Simulate both sides around every transition whose gap or overlap holds a matching wall time."""
    cal, zone, _ = canon
    found: list[Divergence] = []
    assumed = False
    zones = {zone: cal, ev.zone: ev.calendar} if ev.calendar is not None else {zone: cal}
    for zname, zcal in zones.items():
        for trans in zone_map(zname).transitions(lo, hi):
            if not _touches(cal, zone, trans, zname) and not _touches(zcal, zname, trans, zname):
                continue
            if zname == ev.zone and (ev.assumed_gap if trans.is_gap else ev.assumed_overlap):
                assumed = True
            div = _window(canon, ev, guarded, trans, zname)
            if div is not None:
                found.append(div)
    return found, assumed


def _touches(cal: CalendarSpec | None, zone: str, trans: Transition, zname: str) -> bool:
    if cal is None:
        return False
    band_lo, band_hi = trans.band
    if zone != zname:  # the calendar runs in another zone: look at its walls over the same instants
        off = zone_map(zone).offset_at(trans.at)
        shift = abs(trans.after - trans.before)
        band_lo, band_hi = trans.at - shift + off, trans.at + shift + off
    nxt = cal.next_wall(band_lo - 1)
    return nxt is not None and nxt < band_hi


def _window(canon: tuple[CalendarSpec, str, bool], ev: Evaluator, guarded: bool, trans: Transition,
            zname: str) -> Divergence | None:
    shift = abs(trans.after - trans.before)
    start, end = trans.at - shift - 60, trans.at + shift
    plat = _until_past(ev.iterate(start), end)
    cans = _until_past(_iter_canonical(canon, start), max(end, plat[-1] if plat else end))
    cut = min(cans[-1] if cans else end, plat[-1] if plat else end)
    if guarded:
        allowed = set(cans)
        plat = [t for t in plat if t in allowed]
    only_c = [t for t in cans if t <= cut and t not in set(plat)]
    only_p = [t for t in plat if t <= cut and t not in set(cans)]
    if not only_c and not only_p:
        return None
    kind = "dst-gap" if trans.is_gap else "dst-overlap"
    verb = "springs forward" if trans.is_gap else "falls back"
    assumed = zname == ev.zone and (ev.assumed_gap if trans.is_gap else ev.assumed_overlap)
    local = from_epoch(trans.at + trans.before).strftime("%Y-%m-%d %H:%M")
    detail = (f"{zname} {verb} at {local} local ({_iso([trans.at])[0]}); {_difference(only_c, only_p, ev.platform)}"
              + (" (platform rule assumed)" if assumed else ""))
    return Divergence(kind, _iso(only_c[:3]), _iso(only_p[:3]), detail, assumed, min(only_c[:1] + only_p[:1]))


def _difference(only_c: Sequence[int], only_p: Sequence[int], platform: str) -> str:
    """Say what differs: a run the platform misses, one it adds, or one it moves."""
    canon, plat = ", ".join(_iso(only_c[:3])), ", ".join(_iso(only_p[:3]))
    if only_c and only_p:
        return f"the canonical schedule fires {canon}, {platform} fires {plat} instead"
    if only_c:
        return f"the canonical schedule fires {canon}, {platform} does not fire then (a run is lost)"
    return f"{platform} also fires {plat}, which the canonical schedule does not (a run is doubled)"


def _until_past(instants: Iterator[int], end: int) -> list[int]:
    """Collect instants up to and including the first one after `end`."""
    out: list[int] = []
    for t in instants:
        out.append(t)
        if t > end:
            break
    return out


def _iso(instants: Sequence[int]) -> tuple[str, ...]:
    return tuple(from_epoch(t).strftime("%Y-%m-%dT%H:%M:%SZ") for t in instants)
