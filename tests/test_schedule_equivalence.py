"""Equivalence over a horizon: equivalent, or the first diverging instants with the reason."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from infra.model import Schedule
from infra.schedule.canonical import canonical_fires, fires_at_minute
from infra.schedule.equivalence import TargetContext, check
from infra.schedule.model_bridge import canonical_model
from infra.schedule.policies import iter_mapped, take
from infra.schedule.tzmap import from_epoch, to_epoch

UTC = dt.UTC
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
ALL = (TargetContext("aws", "aws"), TargetContext("azure", "azure"), TargetContext("gcp", "gcp"),
       TargetContext("onprem", "cron", host_timezone="Europe/Berlin"),
       TargetContext("onprem-systemd", "systemd", host_timezone="Europe/Berlin"))


def _verdicts(expr: str, tz: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for v in check(Schedule("cron", expr, tz), ALL, start=START):
        first = v.first
        out[v.target] = "equivalent" if v.equivalent else (first.kind, first.canonical, first.actual)  # type: ignore
    return out


def test_a_daily_0230_berlin_job_diverges_at_the_spring_gap_on_every_skipping_platform() -> None:
    # On-prem hosts run the guarded superset line, which covers the shifted gap instant: equivalent.
    assert _verdicts("30 2 * * *", "Europe/Berlin") == {
        "aws": ("dst-gap", ("2026-03-29T01:30:00Z",), ()),
        "azure": "equivalent",
        "gcp": ("dst-gap", ("2026-03-29T01:30:00Z",), ()),
        "onprem": "equivalent",
        "onprem-systemd": "equivalent",
    }


def test_an_hourly_berlin_job_diverges_in_the_repeated_hour_where_platforms_run_once() -> None:
    assert _verdicts("30 * * * *", "Europe/Berlin") == {
        "aws": ("dst-overlap", ("2026-10-25T01:30:00Z",), ()),
        "azure": "equivalent",
        "gcp": ("dst-overlap", ("2026-10-25T01:30:00Z",), ()),
        "onprem": "equivalent",
        "onprem-systemd": "equivalent",  # the timer runs in UTC, so systemd bug #8647 cannot drop the second pass
    }


def test_a_new_york_job_checked_on_a_berlin_host_is_equivalent_through_the_guard() -> None:
    assert _verdicts("0 10 * * *", "America/New_York")["onprem"] == "equivalent"


def test_google_results_that_touch_a_transition_are_marked_assumed() -> None:
    gcp = [v for v in check(Schedule("cron", "30 2 * * *", "Europe/Berlin"), ALL, start=START) if v.target == "gcp"]
    assert gcp[0].assumed and gcp[0].divergences[0].assumed


def test_refusals_are_reported_with_their_kind() -> None:
    verdicts = {v.target: v.kind for v in check(Schedule("cron", "0 9 L * *", "Europe/Berlin"),
                                                (TargetContext("gcp", "gcp"),
                                                 TargetContext("azure", "azure", azure_plan="consumption")),
                                                start=START)}
    assert verdicts == {"gcp": "refused", "azure": "unsupported-zone"}


def test_rates_agree_with_aws_when_anchored_at_start() -> None:
    schedule = Schedule("rate", "7 hours", "UTC", start=START)
    assert check(schedule, (TargetContext("aws", "aws"),), start=START)[0].equivalent


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 59), st.sampled_from(["*", "*/2", "9", "0-5", "1,13"]),
       st.sampled_from(["* *", "1,15 *", "* 1-5", "L *", "* MON#2"]))
def test_utc_schedules_agree_on_every_target_that_accepts_them(minute: int, hours: str, days: str) -> None:
    dom, dow = days.split()
    schedule = Schedule("cron", f"{minute} {hours} {dom} * {dow}", "UTC")
    for v in check(schedule, ALL, start=START, horizon_days=120):
        assert v.equivalent or v.kind == "refused", (v.target, v.divergences)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["30 2 * * *", "*/20 * * * *", "30 * * * *", "0 1-3 * * *", "15 2 * * SUN", "0 0 L * *"]),
       st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
       st.datetimes(dt.datetime(2026, 3, 1), dt.datetime(2026, 11, 5)))
def test_the_fast_canonical_engine_matches_canonical_py(expr: str, tz: str, base: dt.datetime) -> None:
    schedule = Schedule("cron", expr, tz)
    model = canonical_model(schedule)
    assert model.calendar is not None
    after = base.replace(tzinfo=UTC)
    fast = take(iter_mapped(model.calendar, model.zmap, to_epoch(after), model.mapper()), 12)
    assert [from_epoch(t) for t in fast] == canonical_fires(schedule, after, 12)


def test_the_guard_accepts_the_shifted_gap_instant_and_only_the_first_overlap_pass() -> None:
    spring, fall = dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC), dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert fires_at_minute("30 2 * * *", "Europe/Berlin", spring)
    assert fires_at_minute("30 2 * * *", "Europe/Berlin", fall)
    assert not fires_at_minute("30 2 * * *", "Europe/Berlin", fall + dt.timedelta(hours=1))
    assert fires_at_minute("30 * * * *", "Europe/Berlin", fall + dt.timedelta(hours=1))
