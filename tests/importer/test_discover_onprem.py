"""`lockstep import discover --target onprem` over SSH against a real sshd (tests/importer/host.py): every crontab
line of the deploy user, and every systemd timer unit in its unit directory (systemd itself does not run here: the
unit files are read).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.drift.support import run, scratch
from tests.importer.host import UNITS, write_stack


def test_every_crontab_line_is_listed_and_the_copies_are_grouped(host: tuple[int, str], tmp_path: Path) -> None:
    root = scratch(tmp_path / "repo", [])
    write_stack(root, *host)
    code, out = run("import", "discover", "--root", str(root), "--stack", "imp", "--format", "json")
    report = json.loads(out)
    assert (code, report["errors"]) == (0, [])
    items = {i["key"]: i for i in report["items"]}
    key = "onprem:batch-07:batch-07:"  # host, then the line number in `crontab -l` or the timer unit
    assert set(items) == {f"{key}{n}" for n in (3, 4, 6, 7, 8, 9, 10, 11, 13)} | {f"{key}{u}.timer" for u in UNITS}
    assert items[key + "archive.timer"]["schedule"] == {"kind": "cron", "expression": "30 4 1 * *",
                                                        "timezone": "Europe/Berlin"}
    assert items[key + "archive.timer"]["calls"] == "/opt/jobs/archive.sh"
    assert "monotonic" in items[key + "warm.timer"]["reason"]
    assert "not enabled" in items[key + "old-export.timer"]["reason"]
    assert items[key + "lockstep-payroll-sync.timer"]["managed"] == "payroll-sync"
    assert items[key + "8"]["schedule"] == {"kind": "cron", "expression": "0 0 * * *", "timezone": "Europe/Berlin"}
    assert "names" in items[key + "9"]["reason"]  # Debian cron takes a day name only alone, never in a range
    assert "at boot" in items[key + "11"]["reason"]
    assert items[key + "13"]["managed"] == "payroll-sync" and "host manifest" in items[key + "13"]["reason"]
    groups = {(g["kind"], frozenset(g["members"])) for g in report["groups"]}
    # the report written two ways in the crontab and once as a timer: one exact group across cron and systemd
    assert groups == {("exact", frozenset({key + "6", key + "7", key + "report.timer"})),
                      ("near", frozenset({key + "3", key + "4"}))}
    assert report["overlap"]["total"] == 8


def test_a_systemd_timer_is_not_adopted_and_nothing_is_written(host: tuple[int, str], tmp_path: Path) -> None:
    root = scratch(tmp_path / "repo", [])
    write_stack(root, *host)
    (root / "workflows" / "functions" / "report").mkdir()
    key = "onprem:batch-07:batch-07:archive.timer"
    code, out = run("import", "adopt", key, "--root", str(root), "--stack", "imp", "--owner", "ops@example.com",
                    "--json")
    report = json.loads(out)
    assert code == 1 and "is a systemd timer" in report["errors"][0]["message"]
    assert sorted(p.name for p in (root / "workflows").glob("*.py")) == []
