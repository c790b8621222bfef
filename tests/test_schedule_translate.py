"""Translation of the canonical schedule to each platform, its refusals, and translate -> parse round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.model import Schedule
from infra.schedule.canonical import canonical_fires
from infra.schedule.platforms import BY_TARGET_PLATFORM, fires
from infra.schedule.translate import Native, Refusal, translate

UTC = dt.UTC


def _native(expr: str, tz: str, platform: str, **kw: str) -> Native:
    got = translate(Schedule("cron", expr, tz), platform, **kw)
    assert isinstance(got, Native), got
    return got


@pytest.mark.parametrize(("platform", "expression", "settings"), [
    ("aws", "cron(0 9 ? * MON#1 *)", {"ScheduleExpressionTimezone": "Europe/Berlin"}),
    ("azure", "0 0 9 1-7 * 1", {"WEBSITE_TIME_ZONE": "Europe/Berlin"}),
    ("systemd", "*-*-* *:00:00 UTC", {"AccuracySec": "1s", "RandomizedDelaySec": "0", "guard_kind": "cron",
                                      "guard_expression": "0 9 * * MON#1", "guard_timezone": "Europe/Berlin"}),
])
def test_first_monday_translates_to_each_platforms_own_idiom(platform: str, expression: str,
                                                             settings: dict[str, str]) -> None:
    native = _native("0 9 * * MON#1", "Europe/Berlin", platform)
    assert (native.expression, native.settings) == (expression, settings)


def test_aws_gets_weekday_names_and_a_question_mark() -> None:
    assert _native("30 9 * * 1-5", "UTC", "aws").expression == "cron(30 9 ? * MON-FRI *)"


def test_azure_windows_gets_a_windows_zone_id() -> None:
    assert _native("0 9 * * *", "America/New_York", "azure", azure_os="windows").settings == {
        "WEBSITE_TIME_ZONE": "Eastern Standard Time"}


@pytest.mark.parametrize("plan", ["consumption", "flex-consumption"])
def test_azure_refuses_local_zone_on_linux_consumption(plan: str) -> None:
    got = translate(Schedule("cron", "0 9 * * *", "Europe/Berlin"), "azure", azure_plan=plan, azure_os="linux")
    assert isinstance(got, Refusal) and "not supported on Linux" in got.reason and "UTC" in got.fix


def test_azure_accepts_utc_on_linux_consumption_without_a_zone_setting() -> None:
    assert _native("0 9 * * *", "UTC", "azure", azure_plan="consumption").settings == {}


def test_azure_windows_refuses_a_zone_missing_from_the_table() -> None:
    got = translate(Schedule("cron", "0 9 * * *", "Pacific/Chatham"), "azure", azure_os="windows")
    assert isinstance(got, Refusal) and "Windows" in got.reason


@pytest.mark.parametrize(("expr", "word"), [("0 2 * * MON#1", "'#'"), ("0 2 L * *", "'L'")])
def test_google_refuses_hash_and_last_day(expr: str, word: str) -> None:
    got = translate(Schedule("cron", expr, "UTC"), "gcp")
    assert isinstance(got, Refusal) and word in got.reason and "drop gcp" in got.fix


def test_debian_cron_in_another_host_zone_gets_a_guarded_superset_line() -> None:
    native = _native("30 9 * * MON-FRI", "America/New_York", "cron", host_timezone="Europe/Berlin")
    assert native.expression == "30 * * * *"
    assert native.settings == {"guard_kind": "cron", "guard_expression": "30 9 * * MON-FRI",
                               "guard_timezone": "America/New_York"}


def test_debian_cron_for_a_half_hour_zone_fires_at_the_shifted_minute_under_the_guard() -> None:
    assert _native("0 9 * * *", "Asia/Kolkata", "cron", host_timezone="UTC").expression == "30 * * * *"


def test_debian_cron_in_the_host_zone_is_the_same_guarded_superset_line_that_is_deployed() -> None:
    native = _native("0 22 * * 1-5", "Europe/Berlin", "cron", host_timezone="Europe/Berlin")
    assert (native.expression, native.settings["guard_expression"]) == ("0 * * * *", "0 22 * * 1-5")


def test_systemd_last_day_is_a_utc_superset_timer_under_the_guard() -> None:
    native = _native("0 23 L * *", "UTC", "systemd")
    assert (native.expression, native.settings["guard_expression"]) == ("*-*-* *:00:00 UTC", "0 23 L * *")


def test_a_rate_that_divides_an_hour_becomes_utc_cron_off_aws() -> None:
    assert translate(Schedule("rate", "15 minutes", "UTC"), "gcp") == Native(
        "gcp", "*/15 * * * *", "UTC", {"time_zone": "UTC"}, ("rate 15 minutes written as the UTC cron '*/15 * * * *'",))


def test_a_rate_of_seven_hours_is_refused_where_only_cron_exists() -> None:
    got = translate(Schedule("rate", "7 hours", "UTC"), "azure")
    assert isinstance(got, Refusal) and "not a cron schedule" in got.reason


def test_aws_keeps_rates_native() -> None:
    start = dt.datetime(2026, 3, 1, 17, tzinfo=UTC)
    got = translate(Schedule("rate", "1 day", "UTC", start=start), "aws")
    assert isinstance(got, Native) and got.expression == "rate(1 day)" and got.settings["StartDate"].startswith("2026")


_minutes = st.sets(st.integers(0, 59), min_size=1, max_size=4)
_hours = st.sets(st.integers(0, 23), min_size=1, max_size=3)
_days = st.one_of(st.just("* *"), st.sets(st.integers(1, 28), min_size=1, max_size=3).map(
    lambda s: ",".join(map(str, sorted(s))) + " *"), st.sets(st.integers(0, 6), min_size=1, max_size=3).map(
    lambda s: "* " + ",".join(map(str, sorted(s)))), st.just("L *"), st.integers(1, 4).map(lambda n: f"* TUE#{n}"))


def _expr(minutes: set[int], hours: set[int], days: str) -> str:
    dom, dow = days.split()
    return f"{','.join(map(str, sorted(minutes)))} {','.join(map(str, sorted(hours)))} {dom} * {dow}"


@settings(max_examples=60, deadline=None)
@given(_minutes, _hours, _days, st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 1)))
def test_translate_then_platform_parse_fires_the_canonical_utc_instants(minutes: set[int], hours: set[int],
                                                                        days: str, base: dt.datetime) -> None:
    schedule = Schedule("cron", _expr(minutes, hours, days), "UTC")
    after = base.replace(tzinfo=UTC)
    want = canonical_fires(schedule, after, 8)
    for platform in ("aws", "azure", "gcp", "cron", "systemd"):
        native = translate(schedule, platform)
        if isinstance(native, Refusal):
            continue
        got = fires(BY_TARGET_PLATFORM[platform], native.expression, after=after, count=8)
        if "guard_expression" not in native.settings:
            assert got == want, (platform, native.expression)
