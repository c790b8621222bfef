"""The components under mocks: an import record adopts exactly the children it lists, under their live names."""

from __future__ import annotations

from pathlib import Path

from infra.imports import LiveChild, render
from infra.loader import load_repo
from tests.targets_support import build_capture, one, scratch_repo

WF = "queue-drain"
WHERE = "projects/acme-lockstep-staging/locations/europe-west1"


def _record(root: Path, stack: str = "staging") -> None:
    live = {"aws": {"schedule": LiveChild("queues/drain", {"name": "drain", "group": "queues"}),
                    "schedules": LiveChild("queues", {"name": "queues"}),
                    "function": LiveChild("drain", {"name": "drain"})},
            "gcp": {"job": LiveChild(f"{WHERE}/jobs/drain-every-15", {"name": "drain-every-15"}),
                    "function": LiveChild(f"{WHERE}/functions/drain-fn", {"name": "drain-fn"})}}
    (root / "workflows" / "quarter_hour_queue_drain.import.json").write_text(render(WF, {stack: live}))


def test_the_record_imports_exactly_the_listed_children_under_their_live_names(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path)
    _record(root)
    cap = build_capture(load_repo(root), "staging")
    imported = {(r.type, r.name): r.options["import"] for r in cap.registrations if r.options.get("import")}
    assert imported == {
        ("aws:scheduler/schedule:Schedule", f"{WF}-schedule"): "queues/drain",
        ("aws:scheduler/scheduleGroup:ScheduleGroup", f"{WF}-schedules"): "queues",
        ("aws:lambda/function:Function", f"{WF}-function"): "drain",
        ("gcp:cloudscheduler/job:Job", f"{WF}-job"): f"{WHERE}/jobs/drain-every-15",
        ("gcp:cloudfunctionsv2/function:Function", f"{WF}-function"): f"{WHERE}/functions/drain-fn"}
    schedule = one(cap, "aws:scheduler/schedule:Schedule", f"{WF}-schedule")
    assert (schedule.inputs["name"], schedule.inputs["groupName"]) == ("drain", "queues"), schedule.urn
    logs = one(cap, "aws:cloudwatch/logGroup:LogGroup", f"{WF}-logs")
    assert logs.inputs["name"] == "/aws/lambda/drain" and not logs.options["import"], logs.urn  # no live one listed
    job = one(cap, "gcp:cloudscheduler/job:Job", f"{WF}-job")
    assert job.inputs["name"] == "drain-every-15" and job.inputs["schedule"], job.urn
    assert one(cap, "gcp:cloudfunctionsv2/function:Function", f"{WF}-function").inputs["name"] == "drain-fn"
    others = [r for r in cap.registrations if r.options.get("import") and WF not in r.urn]
    assert others == []  # the other workflows have no record


def test_a_schedule_in_a_shared_group_stays_there_and_no_group_is_made(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path)
    live = {"aws": {"schedule": LiveChild("reports/drain", {"name": "drain", "group": "reports"}),
                    "function": LiveChild("drain", {"name": "drain"})}}
    (root / "workflows" / "quarter_hour_queue_drain.import.json").write_text(render(WF, {"staging": live}))
    cap = build_capture(load_repo(root), "staging")
    assert one(cap, "aws:scheduler/schedule:Schedule", f"{WF}-schedule").inputs["groupName"] == "reports"
    assert not [r for r in cap.of_type("aws:scheduler/scheduleGroup:ScheduleGroup") if r.name == f"{WF}-schedules"]


def test_a_record_for_another_stack_changes_nothing_here(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path)
    _record(root, stack="prod")
    cap = build_capture(load_repo(root), "staging")
    assert not [r for r in cap.registrations if r.options.get("import")]
    assert one(cap, "aws:lambda/function:Function", f"{WF}-function").inputs["name"] == f"lockstep-staging-{WF}"
