"""normalize(what the program registered) == translate(workflow) for every example on both stacks and every target."""

from __future__ import annotations

import dataclasses

import pytest

from infra.loader import load_repo
from infra.preflight import analyze
from infra.targets.base import NormalizeError, Observed
from infra.targets.registry import TARGETS
from policies import lib
from policies.rules import deployed_matches_declared
from tests.targets_support import REPO, build_capture, with_staging_vault


def _messages(result, stack_name, registrations, outputs):  # type: ignore[no-untyped-def]
    lib.provide(result, stack_name)
    svc = analyze.servicer([deployed_matches_declared.POLICY], {"repoRoot": str(result.root), "stack": stack_name})
    request = analyze.stack_request(registrations, outputs)
    return [d.message.split("\n", 1)[-1] for d in analyze.analyze_stack(svc, request)]


@pytest.mark.parametrize("stack_name", ["prod", "staging"])
def test_every_registered_workflow_normalizes_back_to_its_desired_state(stack_name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(REPO / "workflows", root / "workflows")
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    result = load_repo(with_staging_vault(root)).require_valid()
    cap = build_capture(result, stack_name)
    enabled = result.stack(stack_name).enabled()
    judged = {(wf.name, t) for wf in result.workflows for t in wf.target_names() if t in enabled}
    assert len(judged) > 15
    assert _messages(result, stack_name, cap.registrations, cap.outputs) == []


def test_a_missing_resource_cannot_be_read_back_and_fails_closed() -> None:
    result = load_repo(REPO).require_valid()
    cap = build_capture(result, "prod")
    kept = [r for r in cap.registrations if not (r.type == "aws:scheduler/schedule:Schedule"
                                                 and r.name == "queue-drain-schedule")]
    found = [m for m in _messages(result, "prod", kept, cap.outputs) if m.startswith("[aws] queue-drain")]
    assert found == [
        "[aws] queue-drain: (resources): the registered resources cannot be read back as the workflow's desired "
        "state (no resource of type aws:scheduler/schedule:Schedule), so they cannot be shown to match and this "
        "fails closed — make every value known at preview, or fix infra/targets/aws/"]


def test_two_resources_of_a_kind_for_one_workflow_are_refused_by_name() -> None:
    twice = [Observed("gcp:cloudscheduler/job:Job", n, {}) for n in ("a-job", "b-job")]
    with pytest.raises(NormalizeError, match=r"2 resources of type gcp:cloudscheduler/job:Job \(a-job, b-job\)"):
        TARGETS["gcp"].normalize(twice)


def test_an_absent_setting_normalizes_to_the_services_documented_default() -> None:
    from infra.targets.aws import facts

    result = load_repo(REPO).require_valid()
    cap = build_capture(result, "prod")
    wf = "queue-drain"
    observed = [Observed(r.type, r.name, r.inputs) for r in cap.registrations if r.name.startswith(f"{wf}-")
                and r.type.startswith("aws:")]
    provider = next(r for r in cap.registrations if r.type == "pulumi:providers:aws")
    function = next(o for o in observed if o.type == "aws:lambda/function:Function")
    bare = dataclasses.replace(function, props={k: v for k, v in function.props.items() if k != "timeout"})
    got = TARGETS["aws"].normalize([*(o for o in observed if o is not function), bare,
                                    Observed(provider.type, provider.name, provider.inputs)])
    assert got.timeout_s == facts.LAMBDA_DEFAULT_TIMEOUT_S == 3


def test_an_onprem_spec_whose_null_bounds_the_engine_dropped_reads_back_the_same() -> None:
    result = load_repo(REPO).require_valid()
    stack = result.stack("prod")
    cap = build_capture(result, "prod")
    wf = next(w for w in result.workflows if w.name == "queue-drain")
    [resource] = [r for r in cap.registrations if r.type == "pulumi-python:dynamic/lockstep-onprem:Workflow"
                  and r.name.startswith("queue-drain-")]
    props = dict(resource.inputs)
    canonical = dict(props["canonical"])
    canonical["schedule"] = {k: v for k, v in canonical["schedule"].items() if v is not None}  # as the engine sends it
    assert "start" not in canonical["schedule"]
    props["canonical"] = canonical
    got = TARGETS["onprem"].normalize([Observed(resource.type, resource.name, props)])
    assert got == TARGETS["onprem"].translate(wf, stack).desired
