"""Discovered schedules normalized into the canonical model, or refused with the reason (no emulator needed)."""

from __future__ import annotations

import pytest

from infra.importer.discover import normalize
from infra.importer.overlap import overlap
from infra.targets.discovered import Discovered
from infra.targets.onprem.live import crontab_lines


def found(target: str, expression: str, tz: str = "UTC", **kw: object) -> Discovered:
    return Discovered(target, "here", expression, expression, expression, tz, calls="fn", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("target", "expression", "tz", "kind", "canonical", "zone"), [
    ("aws", "rate(1 hour)", "UTC", "rate", "1 hour", "UTC"),
    ("aws", "cron(0 6 ? * MON-FRI *)", "Europe/Berlin", "cron", "0 6 * * MON-FRI", "Europe/Berlin"),
    ("azure", "01:30:00", "UTC", "rate", "90 minutes", "UTC"),
    ("azure", "1.00:00:00", "UTC", "rate", "1 day", "UTC"),
    ("azure", "0 15 4 * * *", "W. Europe Standard Time", "cron", "15 4 * * *", "Europe/Berlin"),
    ("gcp", "0 8 * * 1", "America/New_York", "cron", "0 8 * * 1", "America/New_York"),
    ("onprem", "@weekly", "Europe/Berlin", "cron", "0 0 * * 0", "Europe/Berlin"),
])
def test_native_schedules_normalize_in_their_own_zone(target: str, expression: str, tz: str, kind: str,
                                                      canonical: str, zone: str) -> None:
    item = normalize(found(target, expression, tz))
    assert item.reason == ""
    assert item.schedule is not None
    assert (item.schedule.kind, item.schedule.expression, item.schedule.timezone) == (kind, canonical, zone)


@pytest.mark.parametrize(("target", "expression", "why"), [
    ("aws", "at(2027-01-01T00:00:00)", "no canonical form"),
    ("aws", "cron(0 12 L * ? *)", "no canonical form"),
    ("azure", "00:00:30", "not a whole number of minutes"),
    ("onprem", "0 4 * * mon-fri", "not valid on the platform"),
])
def test_schedules_without_a_canonical_form_say_why(target: str, expression: str, why: str) -> None:
    assert why in normalize(found(target, expression)).reason


def test_crontab_settings_comments_and_lockstep_blocks_are_told_apart() -> None:
    lines = crontab_lines("h", "UTC", "SHELL=/bin/sh\n# a comment\n\n5 1 * * * /bin/a\n# lockstep:begin w version=1\n"
                          "7 * * * * runner\n# lockstep:end w\n@reboot /bin/b\n")
    assert [(f.name, f.expression, f.calls, f.managed, bool(f.not_a_workflow)) for f in lines] == [
        ("h:4", "5 1 * * *", "/bin/a", "", False), ("h:6", "7 * * * *", "runner", "w", True),
        ("h:8", "@reboot", "/bin/b", "", True)]


def test_a_rate_and_a_cron_that_fire_alike_with_one_code_are_exact_and_a_dst_shifted_copy_is_near() -> None:
    items = [normalize(found("aws", "rate(30 minutes)", code="c1")),
             normalize(found("gcp", "*/30 * * * *", code="c1")),
             normalize(found("aws", "cron(0 9 * * ? *)", "Europe/Berlin", code="c2")),
             normalize(found("gcp", "0 8 * * *", "UTC", code="c2"))]
    ov = overlap(items)
    assert [(g.kind, g.members) for g in ov.groups] == [
        ("exact", ("aws:here:rate(30 minutes)", "gcp:here:*/30 * * * *")),
        ("near", ("aws:here:cron(0 9 * * ? *)", "gcp:here:0 8 * * *"))]
    assert (ov.total, ov.overlapping, ov.exact_extra()) == (4, 4, 1)


@pytest.mark.parametrize(("expression", "canonical", "why"), [
    ("Mon..Fri *-*-* 03:00", "0 3 * * 1-5", ""),
    ("*:0/15", "0,15,30,45 * * * *", ""),
    ("weekly", "0 0 * * 1", ""),
    ("Mon *-*-01 00:00", "", "ANDs and cron ORs"),
    ("*-*-* 02:00:30", "", "seconds other than :00"),
    ("*-*~01 23:00", "", "from the month's end"),
])
def test_systemd_calendars_normalize_to_cron_where_cron_can_say_them(expression: str, canonical: str,
                                                                     why: str) -> None:
    item = normalize(found("onprem", expression, "Europe/Berlin", dialect="systemd"))
    if why:
        assert why in item.reason
    else:
        assert item.schedule is not None and item.schedule.expression == canonical, item.reason
