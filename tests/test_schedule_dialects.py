"""Each dialect's own rules: weekday numbering, day-of-month/day-of-week AND vs OR, L/#/W, seconds position,
and the documented examples of each platform's docs (AWS [A1], Microsoft [Z1], Google [G1], crontab(5) [C1],
systemd.time(7) [S1]). Instants are UTC; every case starts after 2026-03-01T00:00Z (a Sunday)."""

from __future__ import annotations

import datetime as dt

import pytest

from infra.schedule.cronfields import NativeSyntaxError
from infra.schedule.platforms import fires

AFTER = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _days(platform: str, expr: str, count: int = 3, tz: str = "UTC") -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in fires(platform, expr, after=AFTER, count=count, tz=tz)]


@pytest.mark.parametrize(("platform", "expr", "expected"), [
    # AWS [A1] example table
    ("aws-rule", "cron(0 10 * * ? *)", ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"]),
    ("aws-rule", "cron(15 12 * * ? *)", ["2026-03-01T12:15:00Z", "2026-03-02T12:15:00Z"]),
    ("aws-rule", "cron(0 18 ? * MON-FRI *)", ["2026-03-02T18:00:00Z", "2026-03-03T18:00:00Z"]),
    ("aws-rule", "cron(0 8 1 * ? *)", ["2026-03-01T08:00:00Z", "2026-04-01T08:00:00Z"]),
    ("aws-rule", "cron(0/15 * * * ? *)", ["2026-03-01T00:15:00Z", "2026-03-01T00:30:00Z"]),
    ("aws-rule", "cron(0/10 * ? * MON-FRI *)", ["2026-03-02T00:00:00Z", "2026-03-02T00:10:00Z"]),
    ("aws-rule", "cron(0/5 8-17 ? * MON-FRI *)", ["2026-03-02T08:00:00Z", "2026-03-02T08:05:00Z"]),
    ("aws-rule", "cron(1/10 * * * ? *)", ["2026-03-01T00:01:00Z", "2026-03-01T00:11:00Z"]),
    # Microsoft [Z1] NCRONTAB examples (seconds first)
    ("azure-functions", "0 */5 * * * *", ["2026-03-01T00:05:00Z", "2026-03-01T00:10:00Z"]),
    ("azure-functions", "0 0 * * * *", ["2026-03-01T01:00:00Z", "2026-03-01T02:00:00Z"]),
    ("azure-functions", "0 0 */2 * * *", ["2026-03-01T02:00:00Z", "2026-03-01T04:00:00Z"]),
    ("azure-functions", "0 0 9-17 * * *", ["2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z"]),
    ("azure-functions", "0 30 9 * * *", ["2026-03-01T09:30:00Z", "2026-03-02T09:30:00Z"]),
    ("azure-functions", "0 30 9 * * 1-5", ["2026-03-02T09:30:00Z", "2026-03-03T09:30:00Z"]),
    ("azure-functions", "0 30 9 * Jan Mon", ["2027-01-04T09:30:00Z", "2027-01-11T09:30:00Z"]),
    # Google [G1] sample schedules
    ("gcp-scheduler", "* * * * *", ["2026-03-01T00:01:00Z", "2026-03-01T00:02:00Z"]),
    ("gcp-scheduler", "45 23 * * 6", ["2026-03-07T23:45:00Z", "2026-03-14T23:45:00Z"]),
    ("gcp-scheduler", "0 9 * * 1", ["2026-03-02T09:00:00Z", "2026-03-09T09:00:00Z"]),
    # crontab(5) [C1] example crontab
    ("cron", "5 0 * * *", ["2026-03-01T00:05:00Z", "2026-03-02T00:05:00Z"]),
    ("cron", "15 14 1 * *", ["2026-03-01T14:15:00Z", "2026-04-01T14:15:00Z"]),
    ("cron", "0 22 * * 1-5", ["2026-03-02T22:00:00Z", "2026-03-03T22:00:00Z"]),
    ("cron", "23 0-23/2 * * *", ["2026-03-01T00:23:00Z", "2026-03-01T02:23:00Z"]),
    ("cron", "5 4 * * sun", ["2026-03-01T04:05:00Z", "2026-03-08T04:05:00Z"]),
    # systemd.time(7) [S1]
    ("systemd", "Sat,Thu,Mon..Wed,Sat..Sun", ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"]),
    ("systemd", "Mon,Sun 12-*-* 2,1:23", []),  # two-digit year 12 = 2012: never again
    ("systemd", "Mon,Sun *-12-* 2,1:23", ["2026-12-06T01:23:00Z", "2026-12-06T02:23:00Z"]),
    ("systemd", "Wed *-1", ["2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"]),
    ("systemd", "*:2/3", ["2026-03-01T00:02:00Z", "2026-03-01T00:05:00Z"]),
    ("systemd", "*-02~03", ["2027-02-26T00:00:00Z", "2028-02-27T00:00:00Z"]),
    ("systemd", "Mon *-05~07/1", ["2026-05-25T00:00:00Z", "2027-05-31T00:00:00Z"]),
    ("systemd", "quarterly", ["2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z"]),
    ("systemd", "2026-03-01 00:00:01", ["2026-03-01T00:00:01Z"]),
])
def test_documented_examples_fire_as_documented(platform: str, expr: str, expected: list[str]) -> None:
    assert _days(platform, expr, max(1, len(expected))) == expected


def test_aws_numbers_weekdays_from_sunday() -> None:
    assert _days("aws-rule", "cron(0 9 ? * 1 *)", 2) == ["2026-03-01T09:00:00Z", "2026-03-08T09:00:00Z"]


def test_unix_cron_numbers_weekdays_from_monday_at_one() -> None:
    assert _days("gcp-scheduler", "0 9 * * 1", 1) == ["2026-03-02T09:00:00Z"]


def test_crontab_ors_day_of_month_with_day_of_week() -> None:
    assert _days("cron", "30 4 1,15 * 5", 4) == ["2026-03-01T04:30:00Z", "2026-03-06T04:30:00Z",
                                               "2026-03-13T04:30:00Z", "2026-03-15T04:30:00Z"]


def test_google_ors_day_of_month_with_day_of_week_too() -> None:
    assert _days("gcp-scheduler", "30 4 1,15 * 5", 2) == ["2026-03-01T04:30:00Z", "2026-03-06T04:30:00Z"]


def test_azure_ands_day_of_month_with_day_of_week() -> None:
    assert _days("azure-functions", "0 0 0 13 * 5") == ["2026-03-13T00:00:00Z", "2026-11-13T00:00:00Z",
                                                        "2027-08-13T00:00:00Z"]


def test_a_star_prefixed_day_field_makes_crontab_and_the_fields() -> None:
    assert _days("cron", "0 0 */2 * 1") == ["2026-03-09T00:00:00Z", "2026-03-23T00:00:00Z", "2026-04-13T00:00:00Z"]


@pytest.mark.parametrize(("platform", "expr"), [
    ("aws-rule", "cron(0 9 ? * 2#1 *)"), ("azure-functions", "0 0 9 1-7 * 1"), ("systemd", "Mon *-*-01..07 09:00"),
])
def test_first_monday_of_the_month_is_written_three_ways(platform: str, expr: str) -> None:
    assert _days(platform, expr) == ["2026-03-02T09:00:00Z", "2026-04-06T09:00:00Z", "2026-05-04T09:00:00Z"]


def test_unix_days_one_to_seven_and_monday_means_either() -> None:
    assert _days("cron", "0 9 1-7 * 1", 3) == ["2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z",
                                              "2026-03-03T09:00:00Z"]


@pytest.mark.parametrize(("expr", "expected"), [
    ("cron(0 12 L * ? *)", ["2026-03-31T12:00:00Z", "2026-04-30T12:00:00Z"]),
    ("cron(0 12 LW * ? *)", ["2026-03-31T12:00:00Z", "2026-04-30T12:00:00Z", "2026-05-29T12:00:00Z"]),
    ("cron(0 12 15W * ? *)", ["2026-03-16T12:00:00Z", "2026-04-15T12:00:00Z"]),
    ("cron(0 12 ? * 6L *)", ["2026-03-27T12:00:00Z", "2026-04-24T12:00:00Z"]),
    ("cron(0 12 ? * FRI#5 *)", ["2026-05-29T12:00:00Z", "2026-07-31T12:00:00Z"]),
    ("cron(0 12 * * ? 2027)", ["2027-01-01T12:00:00Z"]),
])
def test_aws_last_weekday_and_nth_forms(expr: str, expected: list[str]) -> None:
    assert _days("aws-rule", expr, len(expected)) == expected


def test_azure_seconds_field_comes_first() -> None:
    assert _days("azure-functions", "*/15 * * * * *", 3) == ["2026-03-01T00:00:15Z", "2026-03-01T00:00:30Z",
                                                             "2026-03-01T00:00:45Z"]


def test_azure_five_fields_mean_seconds_zero() -> None:
    assert _days("azure-functions", "30 9 * * *", 1) == ["2026-03-01T09:30:00Z"]


@pytest.mark.parametrize(("platform", "expr", "reason"), [
    ("aws-scheduler", "cron(0 10 * * * *)", "exactly one of day-of-month"),
    ("aws-scheduler", "cron(0 10 1 * MON *)", "exactly one of day-of-month"),
    ("aws-scheduler", "cron(0 10 * * ?)", "6 fields"),
    ("aws-scheduler", "rate(1 days)", "singular"),
    ("aws-scheduler", "cron(0 10 ? * MON#1,TUE#2 *)", "only one expression"),
    ("azure-functions", "0 0 9 * * 7", "outside 0-6"),
    ("azure-functions", "0 0 9 L * *", "NCRONTAB has no"),
    ("gcp-scheduler", "0 9 L * *", "does not support L"),
    ("gcp-scheduler", "0 9 * * 1#1", "'#'"),
    ("gcp-scheduler", "0 0 9 * * *", "5"),
    ("cron", "0 9 * * mon-fri", "names"),
    ("cron", "@reboot", "boot"),
    ("systemd", "Fooday *-*-* 10:00", "English day name"),
    ("aws-rule", "cron(0 10 * * ? *)", "UTC only"),
])
def test_expressions_the_platform_rejects_raise_its_reason(platform: str, expr: str, reason: str) -> None:
    tz = "Europe/Berlin" if platform == "aws-rule" else "UTC"
    with pytest.raises(NativeSyntaxError, match=reason):
        fires(platform, expr, after=AFTER, count=1, tz=tz)


def test_aws_wraparound_hours_cover_evening_and_early_morning() -> None:
    got = _days("aws-rule", "cron(0/30 20-2 ? * MON-FRI *)", 14)
    assert got[0] == "2026-03-02T00:00:00Z" and "2026-03-02T02:30:00Z" in got and "2026-03-02T20:00:00Z" in got


def test_debian_macros_expand() -> None:
    assert _days("cron", "@weekly", 1) == ["2026-03-08T00:00:00Z"]
