"""Rendering and planning without a host: crontab blocks, the tz superset, systemd units, props, provider diff."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from onprem_support import KEY_ENV, bundle, canonical

from infra.model import Function, Location, OnpremHost, Retry, Schedule, TargetSpec, Workflow
from infra.schedule import hostform as tzguard
from infra.targets.onprem.host import crontab, systemd
from infra.targets.onprem.host.layout import Layout
from infra.targets.onprem.host.manifest import build_plan, content_version
from infra.targets.onprem.host.props import Props, check, props_for
from infra.targets.onprem.host.provider import OnpremWorkflowProvider, live_view

BLOCK = crontab.render_block("nightly", "a" * 32, "0", "/usr/bin/python3", "/b/workflows/nightly/current/r.py",
                             "/b/workflows/nightly/cron.log")
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbcmwzIeDhDhCFzw3C3LXY5ut9cxoZ40E7TW6mG4T9K"


def test_onprem_crontab_replacing_a_block_twice_leaves_one_and_keeps_foreign_lines() -> None:
    table = "MAILTO=ops\n17 * * * * /usr/local/bin/backup\n"
    once = crontab.replace_block(table, "nightly", BLOCK)
    twice = crontab.replace_block(once, "nightly", BLOCK)
    assert once == twice == table + BLOCK
    assert crontab.find_blocks(twice, "nightly") == [BLOCK]
    assert crontab.replace_block(twice, "nightly", None) == table


def test_onprem_crontab_block_of_another_workflow_with_a_longer_name_is_not_ours() -> None:
    other = BLOCK.replace("nightly", "nightly-2")
    assert crontab.find_blocks(other, "nightly") == []
    assert crontab.replace_block(other, "nightly", None) == other


def test_onprem_crontab_unterminated_block_is_seen_but_never_rewritten() -> None:
    other = BLOCK.replace("nightly", "other")
    broken = "1 * * * * keep\n" + BLOCK.split("# lockstep:end")[0] + other + "2 * * * * mine\n"
    assert crontab.find_blocks(broken, "nightly") != []  # read and drift still see it as ours
    for block in (BLOCK, None):
        with pytest.raises(crontab.CrontabError, match=r"crontab line 2 begins the block of 'nightly' but its end "
                                                       r"marker '# lockstep:end nightly' is missing"):
            crontab.replace_block(broken, "nightly", block)


def test_onprem_crontab_copied_runner_line_outside_the_block_is_a_stray() -> None:
    line = crontab.block_lines(BLOCK)[0]
    assert crontab.stray_lines(BLOCK + line + "\n", "/b/workflows/nightly/current/r.py") == [line]


def test_onprem_crontab_refuses_a_percent_sign_in_the_command() -> None:
    with pytest.raises(ValueError, match="cron turns into a newline"):
        crontab.render_block("x", "a" * 32, "0", "/usr/bin/python3", "/b/50%/r.py", "/b/log")


@pytest.mark.parametrize(("expr", "tz", "host", "field"), [
    ("30 2 * * *", "UTC", "Etc/UTC", "30"),
    ("30 2 * * *", "Europe/Berlin", "Etc/UTC", "30"),
    ("0 9 * * *", "Asia/Kolkata", "Etc/UTC", "30"),
    ("0 9 * * *", "Asia/Kathmandu", "Europe/Berlin", "15"),
    ("*/15 * * * *", "Australia/Lord_Howe", "Etc/UTC", "0,15,30,45"),
    ("0 * * * *", "Australia/Lord_Howe", "Etc/UTC", "0,30"),
    ("* 3 * * *", "America/New_York", "Etc/UTC", "*"),
])
def test_onprem_tz_superset_minutes_in_the_host_zone(expr: str, tz: str, host: str, field: str) -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert tzguard.cron_minute_field("cron", expr, tz, host, now) == field


@pytest.mark.parametrize(("expr", "tz", "host"), [("30 2 * * *", "Europe/Berlin", "America/St_Johns"),
                                                  ("0 9 * * MON#1", "Asia/Kolkata", "Europe/London"),
                                                  ("45 1 L * *", "Australia/Lord_Howe", "Etc/UTC")])
def test_onprem_tz_superset_covers_every_wall_minute_fire_over_a_year(expr: str, tz: str, host: str) -> None:
    """Brute force: every UTC minute of 2026 whose canonical wall time matches lands on a listed host minute."""
    from infra.schedule import canonical as canon

    spec = canon.parse_cron(expr)
    field = tzguard.cron_minute_field("cron", expr, tz, host, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    allowed = set(range(60)) if field == "*" else {int(m) for m in field.split(",")}
    zone, host_zone = ZoneInfo(tz), ZoneInfo(host)
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    while t.year == 2026:
        local = t.astimezone(zone)
        if local.minute in spec.minutes and local.hour in spec.hours and canon.day_matches(spec, local.date()):
            assert t.astimezone(host_zone).minute in allowed, t
        t += dt.timedelta(minutes=15)  # every zone offset is a multiple of 15 minutes; so are these minutes


@pytest.mark.parametrize(("expr", "tz", "host", "days"), [
    ("30 2 * * *", "Europe/Berlin", "America/St_Johns", ("2026-03-29", "2026-10-25")),
    ("15 1 * * *", "America/New_York", "Europe/Berlin", ("2026-03-08", "2026-11-01", "2026-03-29")),
    ("*/20 2 * * *", "Australia/Lord_Howe", "Asia/Kathmandu", ("2026-04-05", "2026-10-04")),
])
def test_onprem_tz_superset_covers_every_canonical_fire_across_dst(expr: str, tz: str, host: str,
                                                                    days: tuple[str, ...]) -> None:
    """Every UTC minute `canonical.fires_at_minute` accepts on DST days (gap shifts included) is a host minute cron
    starts the runner at."""
    from infra.schedule.canonical import fires_at_minute

    field = tzguard.cron_minute_field("cron", expr, tz, host, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    allowed = set(range(60)) if field == "*" else {int(m) for m in field.split(",")}
    fires = 0
    for day in days:
        start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC) - dt.timedelta(days=1)
        for step in range(3 * 24 * 60):
            t = start + dt.timedelta(minutes=step)
            if fires_at_minute(expr, tz, t):
                fires += 1
                assert t.astimezone(ZoneInfo(host)).minute in allowed, (t, field)
    assert fires >= 3 * len(days)


def test_onprem_tz_rate_runs_the_runner_every_minute() -> None:
    assert tzguard.cron_minute_field("rate", "15 minutes", "UTC", "Etc/UTC") == "*"


def test_onprem_systemd_units_fire_at_the_same_minutes_as_the_crontab_line() -> None:
    lay = Layout("/var/lib/lockstep", "nightly")
    plan = systemd.unit_plan("nightly", root_user=False)
    units = systemd.render_units(lay, "a" * 32, tzguard.on_calendar("5,35"), "/usr/bin/python3", plan)
    assert sorted(units) == ["lockstep-nightly.service", "lockstep-nightly.timer"]
    timer, service = units["lockstep-nightly.timer"], units["lockstep-nightly.service"]
    assert "OnCalendar=*-*-* *:05,35:00 UTC\n" in timer and "Unit=lockstep-nightly.service\n" in timer
    assert "Persistent=false" in timer and "AccuracySec=1s" in timer
    assert "ExecStart=/usr/bin/python3 /var/lib/lockstep/workflows/nightly/current/.lockstep/runner.py\n" in service
    assert "Type=oneshot" in service
    assert (plan.unit_dir, plan.user_mode) == ("~/.config/systemd/user", True)
    assert systemd.unit_plan("nightly", root_user=True).unit_dir == "/etc/systemd/system"
    assert tzguard.on_calendar("*") == "*-*-* *:*:00 UTC"
    with pytest.raises(ValueError, match="is not the UTC superset form"):
        systemd.render_units(lay, "a" * 32, "*-*-* *:*/5:00", "/usr/bin/python3", plan)


def _workflow(tmp_path: Path) -> Workflow:
    src = tmp_path / "functions" / "nightly"
    ref = bundle(src, "def handler(event, context):\n    pass\n")
    return Workflow(
        name="nightly", schema=1, description="d", owner="o",
        schedule=Schedule("cron", "30 2 * * *", "Europe/Berlin"),
        function=Function("functions/nightly", "main.handler", "python3.11", 256),
        retry=Retry(attempts=3), timeout_s=60, allow_overlap=False, notify=(),
        targets=(TargetSpec("onprem", {"host": "batch-01", "memory_mb": 512}),), accepted_divergences=(),
        location=Location("workflows/nightly.py", 1), field_lines={}, code_digest=ref["digest"], digest="b" * 32)


def _host(scheduler: str = "cron") -> OnpremHost:
    return OnpremHost("batch-01", "10.0.0.5", 22, "deploy", HOST_KEY, scheduler, "Etc/UTC")  # type: ignore[arg-type]


def test_onprem_props_for_holds_plain_data_and_a_key_reference_not_the_key(tmp_path: Path) -> None:
    props = props_for(_workflow(tmp_path), _host(), epoch=4, commit="abc123", repo_root=tmp_path)
    assert pickle.loads(pickle.dumps(props)) == props
    assert props["private_key"] == {"env": "LOCKSTEP_ONPREM_KEY"}
    assert props["memory_mb"] == 512 and props["epoch"] == 4
    assert props["bundle"]["dir"] == str((tmp_path / "functions" / "nightly").resolve())
    assert props["stamps"] == {"lockstep-workflow": "nightly", "lockstep-digest": "b" * 32, "lockstep-schema": "1",
                               "lockstep-commit": "abc123", "lockstep-target": "onprem"}
    assert check(props) == []
    assert ("private_key", "must name a path or an environment variable, never hold the key") in \
        check(dict(props, private_key={"key": "-----BEGIN"}))


def test_onprem_plan_is_content_addressed_and_stable(tmp_path: Path) -> None:
    props = Props(props_for(_workflow(tmp_path), _host(), epoch=1, commit="c1", repo_root=tmp_path))
    first, again = build_plan(props, "/usr/bin/python3"), build_plan(props, "/usr/bin/python3")
    assert first.version == again.version and len(first.version) == 32
    assert sorted(first.files) == [".lockstep/canonical.py", ".lockstep/config.json", ".lockstep/runkit.py",
                                   ".lockstep/runner.py", "app/main.py"]
    later = Props(dict(props.raw, commit="c2", epoch=9))
    assert build_plan(later, "/usr/bin/python3").version == first.version  # a new commit alone is no new content
    assert first.schedule["block"].startswith("# lockstep:begin nightly version=")
    assert crontab.block_lines(first.schedule["block"])[0].startswith("30 * * * * ")
    assert content_version({"a": b"1"}) != content_version({"a": b"2"})


def test_onprem_plan_refuses_a_bundle_that_changed_since_its_digest(tmp_path: Path) -> None:
    from infra.targets.onprem.host.manifest import BundleChanged

    props = Props(props_for(_workflow(tmp_path), _host(), epoch=1, commit="c1", repo_root=tmp_path))
    (tmp_path / "functions" / "nightly" / "main.py").write_text("changed = True\n")
    with pytest.raises(BundleChanged, match="changed since its digest"):
        build_plan(props, "/usr/bin/python3")


def test_onprem_systemd_host_gets_a_unit_pair_instead_of_a_crontab_block(tmp_path: Path) -> None:
    props = Props(props_for(_workflow(tmp_path), _host("systemd"), epoch=1, commit="c", repo_root=tmp_path))
    plan = build_plan(props, "/usr/bin/python3")
    assert plan.schedule["backend"] == "systemd" and plan.schedule["timer"] == "lockstep-nightly.timer"
    assert "OnCalendar=*-*-* *:30:00" in plan.schedule["units"]["lockstep-nightly.timer"]


def _outs(**live: Any) -> dict[str, Any]:
    base = {"host": {"address": "h", "port": 22, "user": "u", "base_dir": "/b", "scheduler": "cron",
                     "timezone": "UTC"}, "canonical": canonical("wf"), "digest": "d1", "bundle": {"digest": "c1"},
            "memory_mb": 256, "commit": "x", "epoch": 1}
    return dict(base, live=dict({"drift": False, "current_ok": True, "digest": "d1"}, **live))


@pytest.mark.parametrize(("change", "changes", "replaces"), [
    ({}, False, []),
    ({"epoch": 9}, False, []),
    ({"digest": "d2"}, True, []),
    ({"host": {"address": "other", "port": 22, "user": "u", "base_dir": "/b", "scheduler": "cron",
               "timezone": "UTC"}}, True, ["host.address"]),
    ({"host": {"address": "h", "port": 22, "user": "u", "base_dir": "/b", "scheduler": "systemd",
               "timezone": "UTC"}}, True, ["host.scheduler"]),
])
def test_onprem_diff_updates_on_content_replaces_on_location_and_ignores_the_epoch(
        change: dict[str, Any], changes: bool, replaces: list[str]) -> None:
    olds = _outs()
    news = {k: v for k, v in dict(olds, **change).items() if k != "live"}
    result = OnpremWorkflowProvider().diff("id", olds, news)
    assert (result.changes, result.replaces) == (changes, replaces)


def test_onprem_diff_sees_drift_that_a_refresh_read_from_the_host() -> None:
    olds = _outs(drift=True)
    news = {k: v for k, v in olds.items() if k != "live"}
    assert OnpremWorkflowProvider().diff("id", olds, news).changes is True


def test_onprem_live_view_is_none_for_a_tombstone_and_flags_a_half_switched_current() -> None:
    props = Props({"canonical": {"name": "wf"}, "host": {"base_dir": "/b"}})
    assert live_view(props, {"exists": True, "manifest": {"state": "deleted", "epoch": 3}}) is None
    manifest = {"state": "active", "version": "v1", "epoch": 1, "schedule": {"backend": "cron", "block": "B\n"}}
    live = live_view(props, {"exists": True, "manifest": manifest, "current": "versions/v0",
                             "schedule": {"backend": "cron", "blocks": ["B\n"], "lines": [], "strays": []}})
    assert live is not None and live["current_ok"] is False and live["drift"] is False


def test_onprem_provider_survives_pulumis_dill_serialization(monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    import dill  # type: ignore[import-untyped]
    from pulumi.dynamic.dynamic import serialize_provider

    monkeypatch.setenv(KEY_ENV, "/nonexistent")
    restored = dill.loads(base64.b64decode(serialize_provider(OnpremWorkflowProvider())))
    assert type(restored).__name__ == "OnpremWorkflowProvider" and restored.hook is None


def test_onprem_workflow_resource_registers_plain_props_under_pulumi_mocks(tmp_path: Path) -> None:
    import pulumi

    from infra.targets.onprem.host.resource import OnpremWorkflow

    seen: list[pulumi.runtime.MockResourceArgs] = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            seen.append(args)
            return f"{args.name}-id", dict(args.inputs, version="v" * 32)

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            return {}, None

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    props = props_for(_workflow(tmp_path), _host(), epoch=2, commit="c", repo_root=tmp_path)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[Any]:
        wf = OnpremWorkflow("nightly-onprem", props)
        return pulumi.Output.all(wf.urn, wf.version).apply(verify)

    def verify(values: list[Any]) -> None:
        urn, version = values
        assert urn.endswith("::nightly-onprem") and version == "v" * 32
        assert seen[0].typ == "pulumi-python:dynamic/lockstep-onprem:Workflow"
        assert seen[0].inputs["epoch"] == 2 and seen[0].inputs["private_key"] == {"env": "LOCKSTEP_ONPREM_KEY"}

    program()
    assert len(seen) == 1


def test_onprem_hostops_systemd_path_writes_units_and_enables_the_timer(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd cannot run here: drive the host-side script in-process with a recording stand-in for systemctl."""
    from infra.targets.onprem.host import deploy as steps
    from infra.targets.onprem.host import hostops

    bin_dir, calls = tmp_path / "bin", tmp_path / "systemctl.calls"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    (bin_dir / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    host = OnpremHost("b", "h", 22, "deploy", HOST_KEY, "systemd", "Etc/UTC", str(tmp_path / "base"))
    props = Props(props_for(_workflow(tmp_path), host, epoch=1, commit="c", repo_root=tmp_path))
    plan = build_plan(props, "/usr/bin/python3")
    req = steps.base_request(props)
    hostops.run("stage", dict(req, version=plan.version, files=plan.files))
    hostops.run("activate", dict(req, version=plan.version, manifest=plan.manifest))
    unit_dir = tmp_path / "home" / ".config" / "systemd" / "user"
    assert sorted(p.name for p in unit_dir.iterdir()) == ["lockstep-nightly.service", "lockstep-nightly.timer"]
    assert calls.read_text().splitlines() == ["--user daemon-reload", "--user enable --now lockstep-nightly.timer"]
    state = hostops.run("read", req)
    assert live_view(props, state) is not None and live_view(props, state)["drift"] is False  # type: ignore[index]
    (unit_dir / "lockstep-nightly.timer").write_text("[Timer]\nOnCalendar=hourly\n")  # a hand edit
    assert live_view(props, hostops.run("read", req))["drift"] is True  # type: ignore[index]
    with pytest.raises(hostops.OpError, match="changed outside Lockstep"):
        hostops.run("activate", dict(req, version=plan.version, manifest=plan.manifest))
    hostops.run("delete", req)
    assert list(unit_dir.iterdir()) == []
    assert calls.read_text().splitlines()[-2:] == ["--user disable --now lockstep-nightly.timer",
                                                   "--user daemon-reload"]
