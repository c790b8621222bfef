"""On-prem under mocks: the component places the dynamic resource with host, scheduler kind and canonical fields."""

from __future__ import annotations

from typing import Any

from infra.digest import canonical_fields
from infra.loader import load_repo
from tests.targets_support import COMMIT, REPO, build_capture, one, prod

ONPREM = "pulumi-python:dynamic/lockstep-onprem:Workflow"


def test_onprem_resource_carries_host_scheduler_canonical_fields_and_stamps() -> None:
    cap = prod()
    wf = next(w for w in load_repo(REPO).workflows if w.name == "berlin-payroll-sync")
    res = one(cap, ONPREM, "berlin-payroll-sync-host")
    assert res.inputs["host"]["name"] == "batch-01" and res.inputs["host"]["scheduler"] == "cron", res.urn
    assert res.inputs["host"]["timezone"] == "Europe/Berlin", res.urn
    assert res.inputs["canonical"] == _without_nulls(canonical_fields(wf)), res.urn
    assert res.inputs["digest"] == wf.digest and res.inputs["bundle"]["digest"] == wf.code_digest, res.urn
    assert res.inputs["stamps"]["lockstep-commit"] == COMMIT, res.urn
    assert res.inputs["stamps"]["lockstep-target"] == "onprem", res.urn
    assert res.parent.endswith("lockstep:onprem:Workflow::berlin-payroll-sync-onprem"), res.urn


def test_onprem_never_carries_key_material() -> None:
    for res in prod().of_type(ONPREM):
        assert set(res.inputs["private_key"]) == {"env"}, res.urn


def _without_nulls(value: Any) -> Any:
    """Drop None values, as Pulumi's serialization does."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def test_placing_the_onprem_resource_leaves_pickle_as_it_was() -> None:
    # The SDK's dynamic-provider serializer leaves a wrapper on this method per resource; ~950 of them overflow.
    import pickle

    before = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    cap = build_capture(load_repo(REPO).require_valid(), "prod")
    assert cap.of_type(ONPREM), "the prod capture places on-prem resources"
    assert pickle._Pickler._batch_setitems is before  # type: ignore[attr-defined]
