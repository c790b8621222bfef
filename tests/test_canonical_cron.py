"""The canonical cron dialect: what it accepts, what it refuses and why."""

from __future__ import annotations

import datetime as dt

import pytest

from infra.schedule.canonical import CronSyntaxError, day_matches, is_point_in_time, parse_cron, parse_rate


def test_names_and_numbers_mean_the_same_schedule() -> None:
    assert parse_cron("0 9 * JAN-MAR MON-FRI").key() == parse_cron("0 9 * 1-3 1-5").key()


def test_sunday_is_both_0_and_7() -> None:
    assert parse_cron("0 0 * * 7").dows == parse_cron("0 0 * * SUN").dows == frozenset({0})


def test_steps_on_star_and_on_ranges() -> None:
    assert parse_cron("*/15 * * * *").minutes == frozenset({0, 15, 30, 45})
    assert parse_cron("10-40/10 * * * *").minutes == frozenset({10, 20, 30, 40})


def test_last_day_of_month_matches_only_the_last_day() -> None:
    spec = parse_cron("0 22 L * *")
    assert [d for d in range(1, 30) if day_matches(spec, dt.date(2028, 2, d))] == [29]
    assert day_matches(spec, dt.date(2026, 4, 30)) and not day_matches(spec, dt.date(2026, 4, 29))


def test_first_monday_matches_only_the_first_monday() -> None:
    spec = parse_cron("0 6 * * MON#1")
    march = [d for d in range(1, 32) if day_matches(spec, dt.date(2026, 3, d))]
    assert march == [2]


@pytest.mark.parametrize(("expr", "words"), [
    ("0 9 1 * MON", "restricts both day-of-month"),
    ("0 25 * * *", "hour value 25 is outside 0-23"),
    ("0 0 * * * *", "has 6 fields"),
    ("0 0 ? * MON", "uses '?', which only AWS accepts"),
    ("0 22-2 * * *", "wraps around"),
    ("0 0 LW * *", "'W' is not portable"),
    ("0 0 * * MON#6", "week of the month, 1-5"),
    ("5/15 * * * *", "write the step on a range or '*'"),
    ("0 0 * * FOO", "is not a number in 0-7; names are SUN..SAT"),
])
def test_expressions_outside_the_dialect_are_refused_with_the_reason(expr: str, words: str) -> None:
    with pytest.raises(CronSyntaxError) as err:
        parse_cron(expr)
    assert words in str(err.value)


def test_point_in_time_means_one_minute_and_one_hour() -> None:
    assert is_point_in_time(parse_cron("30 2 * * *"))
    assert not is_point_in_time(parse_cron("30 * * * *"))
    assert not is_point_in_time(parse_cron("0,30 2 * * *"))


def test_rates_are_whole_minutes_hours_or_days() -> None:
    assert parse_rate("15 minutes") == 900
    assert parse_rate("1 day") == 86400
    for bad in ("0 minutes", "15 seconds", "fifteen minutes", "15"):
        with pytest.raises(CronSyntaxError):
            parse_rate(bad)
