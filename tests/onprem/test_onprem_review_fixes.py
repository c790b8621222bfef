"""Review fixes without a host: one schedule form, UTC systemd timers, the epoch fence, safe paths, the runner's
missing secret and start rule, one drift rule, and the zone probe."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_onprem_runner import events, install, run
from test_onprem_units import _host, _workflow

from infra.model import Schedule
from infra.schedule.translate import Native, translate
from infra.targets.onprem.host import crontab, hostops, runner, systemd
from infra.targets.onprem.host.deploy import zone_mismatch, zone_probe_instants
from infra.targets.onprem.host.layout import Layout, UnsafeValue
from infra.targets.onprem.host.manifest import build_plan
from infra.targets.onprem.host.props import Props, check, props_for
from infra.targets.onprem.host.provider import live_view
from infra.targets.onprem.host.ssh import OnpremError

UTC = dt.UTC
INJECT = "/srv/x\n* * * * * touch /tmp/pwned\n#"


def _props(tmp_path: Path, scheduler: str = "cron", tz: str = "Europe/Berlin", **host: Any) -> Props:
    wf = _workflow(tmp_path)
    raw = props_for(wf, dataclasses.replace(_host(scheduler), timezone=tz), epoch=1, commit="c", repo_root=tmp_path)
    raw["host"].update(host)
    return Props(raw)


@pytest.mark.parametrize("scheduler", ["cron", "systemd"])
def test_onprem_deployed_schedule_is_the_form_schedule_check_translates(tmp_path: Path, scheduler: str) -> None:
    props = _props(tmp_path, scheduler)
    plan = build_plan(props, "/usr/bin/python3")
    native = translate(Schedule("cron", "30 2 * * *", "Europe/Berlin"), scheduler, host_timezone="Europe/Berlin")
    assert isinstance(native, Native)
    if scheduler == "cron":
        assert crontab.block_lines(plan.schedule["block"])[0].startswith(native.expression + " cd / && exec ")
    else:
        assert f"OnCalendar={native.expression}\n" in plan.schedule["units"]["lockstep-nightly.timer"]
    config = json.loads(__import__("base64").b64decode(plan.files[".lockstep/config.json"]))
    assert {f"guard_{k}": v for k, v in config["schedule"].items() if v is not None} == \
        {k: v for k, v in native.settings.items() if k.startswith("guard_")}


def test_onprem_systemd_timer_runs_in_utc_so_the_repeated_hour_is_kept(tmp_path: Path) -> None:
    timer = build_plan(_props(tmp_path, "systemd"), "/usr/bin/python3").schedule["units"]["lockstep-nightly.timer"]
    calendar = next(ln for ln in timer.splitlines() if ln.startswith("OnCalendar="))[len("OnCalendar="):]
    assert calendar == "*-*-* *:30:00 UTC"
    out = subprocess.run(["systemd-analyze", "calendar", "--iterations=2", calendar], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def _lay(tmp_path: Path) -> dict[str, str]:
    lay = Layout(str(tmp_path), "fenced").as_dict()
    Path(lay["root"]).mkdir(parents=True)
    return lay


def _write(path: str, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data))


def test_onprem_fence_counts_a_pending_activation_that_crashed_after_the_switch(tmp_path: Path) -> None:
    lay = _lay(tmp_path)
    _write(lay["manifest"], {"state": "active", "epoch": 7})
    _write(lay["pending"], {"state": "active", "epoch": 8})  # deployer 8 died after switching `current`
    with pytest.raises(hostops.OpError, match="epoch 7 is older than the host's epoch 8") as err:
        hostops.fence("stage", {"epoch": 7}, lay)
    assert err.value.code == hostops.FENCED


def test_onprem_fence_records_the_highest_epoch_before_any_mutation_and_keeps_it(tmp_path: Path) -> None:
    lay = _lay(tmp_path)
    hostops.fence("stage", {"epoch": 9, "deployer": "ci@a"}, lay)  # no manifest yet: epoch.json holds the fence
    assert json.loads(Path(lay["epoch"]).read_text()) == {"epoch": 9, "deployer": "ci@a"}
    with pytest.raises(hostops.OpError, match="epoch 8 is older"):
        hostops.fence("activate", {"epoch": 8, "deployer": "ci@a"}, lay)
    hostops.fence("stage", {"epoch": 9, "deployer": "ci@a"}, lay)  # the same deployer retrying passes
    with pytest.raises(hostops.OpError, match="epoch 9 was accepted from deployer 'ci@a'"):
        hostops.fence("stage", {"epoch": 9, "deployer": "ci@b"}, lay)


@pytest.mark.parametrize("base", [INJECT, "/srv/a b", "/srv/100%", "/srv/../etc", "relative/dir", "/srv/$(id)"])
def test_onprem_layout_refuses_a_base_dir_that_could_inject_into_crontab_or_units(base: str) -> None:
    with pytest.raises(UnsafeValue, match="base_dir"):
        Layout(base, "a")


def test_onprem_unsafe_base_dir_is_an_error_naming_host_and_step(tmp_path: Path) -> None:
    props = _props(tmp_path, base_dir=INJECT)
    with pytest.raises(OnpremError, match=r"on-prem host deploy@10\.0\.0\.5:22: step plan: base_dir"):
        _ = props.layout
    assert any(path == "host.base_dir" for path, _ in check(props.raw))


def test_onprem_unsafe_python_path_never_reaches_the_crontab_or_unit(tmp_path: Path) -> None:
    for scheduler in ("cron", "systemd"):
        with pytest.raises(UnsafeValue, match="python"):
            build_plan(_props(tmp_path, scheduler), "/usr/bin/python3\n* * * * * id")


def test_onprem_env_values_do_not_reach_the_crontab_or_units(tmp_path: Path) -> None:
    props = _props(tmp_path, "systemd")
    props.raw["canonical"]["function"]["env"] = {"EVIL": "x\n* * * * * id %"}
    schedule = build_plan(props, "/usr/bin/python3").schedule
    assert "EVIL" not in json.dumps(schedule["units"])
    cron = build_plan(_props(tmp_path), "/usr/bin/python3").schedule
    assert "EVIL" not in cron["block"]
    assert systemd.ON_CALENDAR_RE.match("*-*-* *:05,35:00 UTC")


def test_onprem_runner_missing_secret_at_run_time_is_a_failed_outcome_that_notifies(tmp_path: Path) -> None:
    path = install(tmp_path, "def handler(event, context):\n    pass\n", secrets={"TOKEN": "api-token"})
    assert run(path) == 1
    outcomes = [e for e in events(tmp_path) if e["event"] == "failed"]
    assert len(outcomes) == 1 and "api-token" in outcomes[0]["why"] and "not provisioned" in outcomes[0]["why"]
    notes = events(tmp_path, "notify.jsonl")
    assert len(notes) == 1 and notes[0]["outcome"] == "failed"


def test_onprem_runner_start_inside_a_minute_admits_the_next_minute_not_this_one() -> None:
    schedule = {"kind": "cron", "expression": "* * * * *", "timezone": "UTC", "start": "2026-01-01T02:00:30+00:00"}
    assert runner.guard(schedule, dt.datetime(2026, 1, 1, 2, 0, tzinfo=UTC)) == \
        "before schedule start 2026-01-01T02:00:30+00:00"
    assert runner.guard(schedule, dt.datetime(2026, 1, 1, 2, 1, tzinfo=UTC)) is None


def test_onprem_runner_rate_units_come_from_canonical_parse_rate() -> None:
    schedule = {"kind": "rate", "expression": "2 Hours", "start": "2026-01-01T00:00:00+00:00"}
    assert runner.rate_fires(schedule, dt.datetime(2026, 1, 1, 4, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="a rate is"):
        runner.rate_fires(dict(schedule, expression="2 fortnights"), dt.datetime(2026, 1, 1, tzinfo=UTC))


def test_onprem_drift_rule_is_shared_by_read_and_activate(tmp_path: Path) -> None:
    props = _props(tmp_path)
    manifest = {"state": "active", "epoch": 1, "version": "v", "schedule": {"backend": "cron", "block": "B\n"}}
    live = {"backend": "cron", "blocks": ["X\n"], "strays": [], "lines": []}
    state = {"exists": True, "manifest": manifest, "pending": None, "schedule": live}
    view = live_view(props, state)
    assert view is not None and view["drift"] is True
    assert hostops.schedule_drift(live, manifest, None) is not None
    same = dict(live, blocks=["B\n"])
    assert hostops.schedule_drift(same, manifest, None) is None
    assert (live_view(props, dict(state, schedule=same)) or {})["drift"] is False


def test_onprem_zone_probe_catches_a_utc_host_configured_as_london_in_winter() -> None:
    winter = dt.datetime(2026, 1, 15, tzinfo=UTC)
    instants = zone_probe_instants("Europe/London", winter)
    utc_host = [[t, 0] for t in instants]
    assert zone_mismatch("Europe/London", utc_host) is not None
    assert "3600 s" in (zone_mismatch("Europe/London", utc_host) or "")
    assert zone_mismatch("UTC", [[t, 0] for t in zone_probe_instants("UTC", winter)]) is None
    london_host = [[t, 0] for t in zone_probe_instants("UTC", winter)]
    london_host = [[t, 3600 if dt.datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp() <= t <
                    dt.datetime(2026, 10, 25, 1, tzinfo=UTC).timestamp() else 0] for t, _ in london_host]
    assert zone_mismatch("UTC", london_host) is not None  # a London host configured as UTC, caught in winter too


def test_onprem_zone_probe_reads_the_hosts_own_offsets(tmp_path: Path) -> None:
    lay = Layout(str(tmp_path), "z").as_dict()
    at = int(dt.datetime(2026, 7, 1, tzinfo=UTC).timestamp())
    got = hostops.probe(lay, [at])
    assert got["offsets"] == [[at, __import__("time").localtime(at).tm_gmtoff]]
