"""Cross-checks against the real implementations: cronsim (Debian cron, DST included) and systemd-analyze."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest

from infra.schedule.platforms import fires

UTC = dt.UTC
CRON_CASES = ["30 2 * * *", "30 1 * * *", "30 * * * *", "*/20 * * * *", "0,30 2 * * *", "15 2,3 * * *",
              "0 0 */2 * 1", "30 4 1,15 * 5", "5 4 * * sun", "23 0-23/2 * * *", "0 3 * * *", "59 1 * * *"]
BASES = [dt.datetime(2026, 3, 7, 12, tzinfo=UTC), dt.datetime(2026, 3, 28, 12, tzinfo=UTC),
         dt.datetime(2026, 10, 24, 12, tzinfo=UTC), dt.datetime(2026, 10, 31, 12, tzinfo=UTC)]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "UTC"])
@pytest.mark.parametrize("expr", CRON_CASES)
def test_debian_cron_matches_cronsim_across_the_2026_transitions(expr: str, zone: str) -> None:
    cronsim = pytest.importorskip("cronsim")
    for base in BASES:
        it = cronsim.CronSim(expr, base.astimezone(ZoneInfo(zone)))
        expected = [next(it).astimezone(UTC) for _ in range(30)]
        assert fires("cron", expr, after=base, count=30, tz=zone) == expected, (expr, zone, base)


SYSTEMD_CASES = ["*-*-* 02:30:00", "*-*-* 01:30:00", "*-*-* *:30:00", "*-*-* *:00/20:00", "Mon *-*-01..07 09:00",
                 "*-*~01 23:00", "Mon..Fri *-*-* 02:15", "*-*-* 00/3:45:00", "quarterly", "*-*-* 02,03:00:00"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("expr", SYSTEMD_CASES)
def test_systemd_matches_systemd_analyze_across_the_2026_transitions(expr: str, zone: str) -> None:
    for base in BASES:
        out = subprocess.run(
            ["systemd-analyze", "calendar", "--iterations=12", f"--base-time={base:%Y-%m-%d %H:%M:%S} UTC",
             f"{expr} {zone}"], capture_output=True, text=True, check=True, timeout=30,
            env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}).stdout
        expected = [dt.datetime.strptime(m, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
                    for m in re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", out)]
        assert fires("systemd", f"{expr} {zone}", after=base, count=len(expected)) == expected, (expr, zone, base)
