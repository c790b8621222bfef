"""Exact UTC fire instants on the 2026 DST transition days, for every platform (reference §3, cases D1-D8).

2026 transitions: America/New_York springs forward Sun 03-08 02:00 EST -> 03:00 EDT (07:00Z) and falls back
Sun 11-01 02:00 EDT -> 01:00 EST (06:00Z); Europe/Berlin springs forward Sun 03-29 01:00Z (02:00 -> 03:00) and
falls back Sun 10-25 01:00Z (03:00 -> 02:00).
"""

from __future__ import annotations

import datetime as dt

import pytest

from infra.schedule.platforms import fires

NY, BER = "America/New_York", "Europe/Berlin"


def _fires(platform: str, expr: str, tz: str, after: str, count: int, start: str | None = None) -> list[str]:
    got = fires(platform, expr, after=dt.datetime.fromisoformat(after), count=count, tz=tz,
                start=dt.datetime.fromisoformat(start) if start else None)
    return [t.strftime("%Y-%m-%dT%H:%MZ") for t in got]


# D1: daily 02:30 New York on 2026-03-08, when 02:30 does not exist.
@pytest.mark.parametrize(("platform", "expr", "expected"), [
    ("aws-scheduler", "cron(30 2 * * ? *)", ["2026-03-07T07:30Z", "2026-03-09T06:30Z"]),
    ("azure-functions", "0 30 2 * * *", ["2026-03-07T07:30Z", "2026-03-08T07:30Z"]),
    ("gcp-scheduler", "30 2 * * *", ["2026-03-07T07:30Z", "2026-03-09T06:30Z"]),
    ("cron", "30 2 * * *", ["2026-03-07T07:30Z", "2026-03-08T07:00Z"]),
    ("systemd", "*-*-* 02:30:00", ["2026-03-07T07:30Z", "2026-03-09T06:30Z"]),
])
def test_daily_0230_new_york_on_the_spring_forward_day(platform: str, expr: str, expected: list[str]) -> None:
    assert _fires(platform, expr, NY, "2026-03-07T00:00:00+00:00", 2) == expected


# D2: daily 01:30 New York on 2026-11-01, when 01:30 happens at 05:30Z (EDT) and 06:30Z (EST).
@pytest.mark.parametrize(("platform", "expr"), [
    ("aws-scheduler", "cron(30 1 * * ? *)"), ("azure-functions", "0 30 1 * * *"), ("gcp-scheduler", "30 1 * * *"),
    ("cron", "30 1 * * *"), ("systemd", "*-*-* 01:30:00"),
])
def test_daily_0130_new_york_runs_once_at_the_first_pass_on_fall_back(platform: str, expr: str) -> None:
    assert _fires(platform, expr, NY, "2026-10-31T12:00:00+00:00", 2) == ["2026-11-01T05:30Z", "2026-11-02T06:30Z"]


# D3: daily 02:30 Berlin on 2026-03-29.
@pytest.mark.parametrize(("platform", "expr", "expected"), [
    ("aws-scheduler", "cron(30 2 * * ? *)", "2026-03-30T00:30Z"),
    ("azure-functions", "0 30 2 * * *", "2026-03-29T01:30Z"),
    ("gcp-scheduler", "30 2 * * *", "2026-03-30T00:30Z"),
    ("cron", "30 2 * * *", "2026-03-29T01:00Z"),
    ("systemd", "*-*-* 02:30:00 Europe/Berlin", "2026-03-30T00:30Z"),
])
def test_daily_0230_berlin_on_the_spring_forward_day(platform: str, expr: str, expected: str) -> None:
    assert _fires(platform, expr, BER, "2026-03-28T12:00:00+00:00", 1) == [expected]


# D4: daily 02:30 Berlin on 2026-10-25 (00:30Z CEST / 01:30Z CET): once, first pass, everywhere we model.
@pytest.mark.parametrize(("platform", "expr"), [
    ("aws-scheduler", "cron(30 2 * * ? *)"), ("azure-functions", "0 30 2 * * *"), ("gcp-scheduler", "30 2 * * *"),
    ("cron", "30 2 * * *"), ("systemd", "*-*-* 02:30:00"),
])
def test_daily_0230_berlin_runs_once_on_fall_back(platform: str, expr: str) -> None:
    assert _fires(platform, expr, BER, "2026-10-24T12:00:00+00:00", 2) == ["2026-10-25T00:30Z", "2026-10-26T01:30Z"]


# D5: hourly at :30 Berlin across the fall-back hour.
@pytest.mark.parametrize(("platform", "expr", "expected"), [
    ("aws-scheduler", "cron(30 * * * ? *)", ["2026-10-25T00:30Z", "2026-10-25T02:30Z"]),
    ("azure-functions", "0 30 * * * *", ["2026-10-25T00:30Z", "2026-10-25T01:30Z"]),
    ("gcp-scheduler", "30 * * * *", ["2026-10-25T00:30Z", "2026-10-25T02:30Z"]),
    ("cron", "30 * * * *", ["2026-10-25T00:30Z", "2026-10-25T01:30Z"]),
    ("systemd", "*-*-* *:30:00", ["2026-10-25T00:30Z", "2026-10-25T02:30Z"]),
])
def test_hourly_berlin_on_fall_back_keeps_or_loses_the_repeated_hour(platform: str, expr: str,
                                                                     expected: list[str]) -> None:
    assert _fires(platform, expr, BER, "2026-10-25T00:00:00+00:00", 2) == expected


# D6: hourly at :30 Berlin across the spring gap: 00:30Z then 01:30Z (= 03:30 CEST) on every platform.
@pytest.mark.parametrize(("platform", "expr"), [
    ("aws-scheduler", "cron(30 * * * ? *)"), ("azure-functions", "0 30 * * * *"), ("gcp-scheduler", "30 * * * *"),
    ("cron", "30 * * * *"), ("systemd", "*:30"),
])
def test_hourly_berlin_across_the_spring_gap_loses_nothing_and_adds_nothing(platform: str, expr: str) -> None:
    assert _fires(platform, expr, BER, "2026-03-29T00:00:00+00:00", 3) == [
        "2026-03-29T00:30Z", "2026-03-29T01:30Z", "2026-03-29T02:30Z"]


# D7: daily 10:00 New York moves from 15:00Z to 14:00Z everywhere; Azure without a zone stays at 10:00Z.
@pytest.mark.parametrize(("platform", "expr", "tz"), [
    ("aws-scheduler", "cron(0 10 * * ? *)", NY), ("azure-functions", "0 0 10 * * *", NY),
    ("azure-functions", "0 0 10 * * *", "Eastern Standard Time"), ("gcp-scheduler", "0 10 * * *", NY),
    ("cron", "0 10 * * *", NY), ("systemd", "*-*-* 10:00:00 America/New_York", "UTC"),
])
def test_daily_1000_new_york_follows_daylight_time(platform: str, expr: str, tz: str) -> None:
    assert _fires(platform, expr, tz, "2026-03-07T00:00:00+00:00", 2) == ["2026-03-07T15:00Z", "2026-03-08T14:00Z"]


def test_azure_on_linux_consumption_runs_in_utc_because_the_zone_is_unsupported() -> None:
    assert _fires("azure-functions", "0 0 10 * * *", "UTC", "2026-03-07T00:00:00+00:00", 1) == ["2026-03-07T10:00Z"]


# D8: rate(1 day) is 24 hours: 17:00Z every day, i.e. 12:00 EST then 13:00 EDT.
def test_aws_rate_of_one_day_is_elapsed_time_and_drifts_in_local_time() -> None:
    assert _fires("aws-scheduler", "rate(1 day)", NY, "2026-03-07T00:00:00+00:00", 2,
                  start="2026-03-01T17:00:00+00:00") == ["2026-03-07T17:00Z", "2026-03-08T17:00Z"]


def test_azure_point_in_time_with_two_gap_times_fires_once_at_0300_and_loses_0230() -> None:
    assert _fires("azure-functions", "0 0,30 2 * * *", NY, "2026-03-07T12:00:00+00:00", 2) == [
        "2026-03-08T07:00Z", "2026-03-09T06:00Z"]


def test_azure_every_30_minutes_new_york_fall_back_runs_both_passes() -> None:
    assert _fires("azure-functions", "0 */30 * * * *", NY, "2026-11-01T04:45:00+00:00", 6) == [
        "2026-11-01T05:00Z", "2026-11-01T05:30Z", "2026-11-01T06:00Z", "2026-11-01T06:30Z", "2026-11-01T07:00Z",
        "2026-11-01T07:30Z"]


def test_systemd_started_inside_the_second_pass_fires_on_the_second_pass() -> None:
    assert _fires("systemd", "*-*-* *:45:00", BER, "2026-10-25T01:40:00+00:00", 2) == [
        "2026-10-25T01:45Z", "2026-10-25T02:45Z"]


def test_cron_wildcard_every_20_minutes_skips_the_missing_hour_in_berlin() -> None:
    assert _fires("cron", "*/20 * * * *", BER, "2026-03-29T00:30:00+00:00", 3) == [
        "2026-03-29T00:40Z", "2026-03-29T01:00Z", "2026-03-29T01:20Z"]
