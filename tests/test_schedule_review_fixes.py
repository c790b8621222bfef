"""Review fixes: the on-prem form checked is the one deployed, start/end on every target, rates on AWS, weekdays."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from infra.model import Schedule
from infra.schedule import equivalence, platforms
from infra.schedule import translate as tr
from infra.schedule.equivalence import TargetContext, check
from infra.schedule.hostform import host_form
from infra.schedule.translate import Native, Refusal, translate

UTC = dt.UTC
START = dt.datetime(2026, 6, 1, tzinfo=UTC)


def _native(schedule: Schedule, platform: str, **kw: str) -> Native:
    got = translate(schedule, platform, **kw)
    assert isinstance(got, Native), got
    return got


def test_schedule_check_models_the_deployed_superset_line_on_a_berlin_cron_host() -> None:
    payroll = Schedule("cron", "30 2 * * *", "Europe/Berlin")
    (verdict,) = check(payroll, (TargetContext("onprem", "cron", host_timezone="Europe/Berlin"),), start=START)
    assert verdict.equivalent, verdict.divergences
    assert _native(payroll, "cron", host_timezone="Europe/Berlin").expression == "30 * * * *"


@pytest.mark.parametrize(("scheduler", "host"), [("cron", "Europe/Berlin"), ("cron", "Asia/Kolkata"),
                                                 ("systemd", "Europe/Berlin"), ("systemd", "UTC")])
def test_schedule_translate_and_the_onprem_manifest_share_one_host_form(scheduler: str, host: str) -> None:
    schedule = Schedule("cron", "0 9 * * MON#1", "America/New_York", end=dt.datetime(2030, 1, 1, tzinfo=UTC))
    form = host_form("cron", schedule.expression, schedule.timezone, None, "2030-01-01T00:00:00+00:00",
                     scheduler, host)
    native = _native(schedule, scheduler, host_timezone=host)
    assert (native.expression, native.timezone) == (form.expression, form.timezone)
    assert native.settings["guard_end"] == form.guard["end"]


def test_schedule_systemd_superset_timer_runs_in_utc_and_keeps_the_repeated_hour() -> None:
    native = _native(Schedule("cron", "30 * * * *", "Europe/Berlin"), "systemd", host_timezone="Europe/Berlin")
    assert native.expression == "*-*-* *:30:00 UTC"
    after = dt.datetime(2026, 10, 24, 23, tzinfo=UTC)
    got = platforms.fires("systemd", native.expression, tz="Europe/Berlin", after=after, count=3)
    assert dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC) in got


@pytest.mark.parametrize("expr", ["0 2 * * 0-6", "0 2 * * SUN-SAT", "0 2 * * */1", "0 2 * * 0-7"])
@pytest.mark.parametrize("platform", ["aws", "systemd", "cron", "gcp", "azure"])
def test_schedule_every_weekday_translates_to_a_form_each_platform_accepts(expr: str, platform: str) -> None:
    native = _native(Schedule("cron", expr, "UTC"), platform)
    platforms.evaluator(platforms.BY_TARGET_PLATFORM[platform], native.expression)  # raises if rejected
    assert "MON" not in native.expression and "Sun" not in native.expression
    if platform == "systemd":
        out = subprocess.run(["systemd-analyze", "calendar", native.expression], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


def test_schedule_a_rejected_translation_is_a_bug_report_not_an_acceptable_divergence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(tr._CRON, "gcp", lambda *a: Native("gcp", "61 * * * *", "UTC"))
    (verdict,) = check(Schedule("cron", "0 2 * * *", "UTC"), (TargetContext("gcp", "gcp"),), start=START)
    assert verdict.kind == "translation-bug" and "bug in Lockstep" in verdict.divergences[0].detail
    assert "refused" not in verdict.divergences[0].detail


def test_schedule_an_aws_rate_without_start_is_written_on_the_epoch_grid() -> None:
    native = _native(Schedule("rate", "15 minutes", "UTC"), "aws")
    assert (native.expression, native.timezone) == ("cron(0/15 * * * ? *)", "UTC")
    assert check(Schedule("rate", "15 minutes", "UTC"), (TargetContext("aws", "aws"),), start=START)[0].equivalent


def test_schedule_an_aws_rate_off_the_cron_grid_without_start_is_refused() -> None:
    got = translate(Schedule("rate", "7 minutes", "UTC"), "aws")
    assert isinstance(got, Refusal) and "from the schedule's creation" in got.reason and "start" in got.fix


@pytest.mark.parametrize("platform", ["gcp", "azure"])
@pytest.mark.parametrize("bound", ["start", "end"])
def test_schedule_platforms_without_start_or_end_refuse_a_bounded_schedule(platform: str, bound: str) -> None:
    when = {bound: dt.datetime(2026, 7, 1, tzinfo=UTC)}
    got = translate(Schedule("cron", "0 2 * * *", "UTC", **when), platform)  # type: ignore[arg-type]
    assert isinstance(got, Refusal) and f"no {bound} date" in got.reason


def test_schedule_aws_carries_start_and_end_and_check_compares_beyond_them() -> None:
    schedule = Schedule("cron", "0 2 * * *", "UTC", start=dt.datetime(2026, 6, 10, tzinfo=UTC),
                        end=dt.datetime(2026, 7, 1, tzinfo=UTC))
    native = _native(schedule, "aws")
    assert native.settings["StartDate"].startswith("2026-06-10") and native.settings["EndDate"].startswith("2026-07")
    targets = (TargetContext("aws", "aws"), TargetContext("onprem", "cron"), TargetContext("sd", "systemd"))
    assert all(v.equivalent for v in check(schedule, targets, start=START))


def test_schedule_check_notices_a_target_that_keeps_firing_after_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = Schedule("cron", "0 2 * * *", "UTC", end=dt.datetime(2026, 7, 1, tzinfo=UTC))
    monkeypatch.setattr(equivalence, "translate", lambda *a, **k: Native("gcp", "0 2 * * *", "UTC"))
    (verdict,) = check(schedule, (TargetContext("gcp", "gcp"),), start=START)
    assert verdict.kind == "start-end" and verdict.first is not None
    assert verdict.first.actual == ("2026-07-01T02:00:00Z",)


def test_schedule_utc_names_are_defined_once() -> None:
    assert not hasattr(tr, "UTC_NAMES") or tr.UTC_NAMES is platforms.UTC_NAMES
    assert not hasattr(platforms, "UTC_ALIASES")
