"""Fidelity: one table classifies every canonical field on every target; impossible fields are refused."""

from __future__ import annotations

import argparse
import dataclasses
import json

import pytest

from infra import fidelity, program
from infra.cli_explain import cmd_explain, register
from infra.errors import SpecInvalid
from infra.loader import load_repo
from infra.model import TARGETS, Schedule, Workflow
from tests.targets_support import REPO


def _repo() -> tuple[dict[str, Workflow], object]:
    result = load_repo(REPO).require_valid()
    return {w.name: w for w in result.workflows}, result


def _prod():  # type: ignore[no-untyped-def]
    return load_repo(REPO).require_valid().stack("prod")


def test_every_target_judges_every_field_and_only_impossible_carries_a_kind() -> None:
    wfs, _ = _repo()
    stack = _prod()
    for target in TARGETS:
        for wf in (w for w in wfs.values() if target in w.target_names()):
            judged = fidelity.translation(wf, stack, target).fidelity
            assert set(judged) == set(fidelity.FIELDS), (target, wf.name)
            assert all((f.kind is None) == (f.level != "impossible") for f in judged.values()), (target, wf.name)


def test_every_example_lands_without_impossible_fields_on_prod() -> None:
    wfs, _ = _repo()
    stack = _prod()
    for wf in wfs.values():
        for target in (t for t in wf.target_names() if t in stack.enabled()):
            bad = [x for x in fidelity.assess(wf, stack, target) if x.fidelity == "impossible"]
            assert not bad, f"{wf.name} on {target}: {bad}"


def test_aws_refuses_more_retries_than_lambda_allows_naming_file_and_line() -> None:
    wfs, _ = _repo()
    wf = wfs["nightly-ledger-export"]
    wf = dataclasses.replace(wf, retry=dataclasses.replace(wf.retry, attempts=4))
    errors = fidelity.refusals(wf, _prod(), "aws")
    assert [e.render() for e in errors] == [
        "workflows/nightly_ledger_export.py:19: retry.attempts: 4 — is impossible on aws (workflow "
        "'nightly-ledger-export', stack 'prod'): 4 attempts need 3 retries; Lambda asynchronous invocation retries "
        "at most 2 times — use retry attempts <= 3, or drop aws from targets"]


def test_azure_consumption_refuses_a_timeout_over_ten_minutes() -> None:
    wfs, _ = _repo()
    stack = _prod()
    assert stack.azure is not None
    consumption = dataclasses.replace(stack, azure=dataclasses.replace(stack.azure, plan="consumption"))
    wf = dataclasses.replace(wfs["nightly-ledger-export"], timeout_s=900)
    [error] = [e for e in fidelity.refusals(wf, consumption, "azure") if e.field == "timeout"]
    assert "maximum functionTimeout of 600 s" in error.why and error.line == 20, error.render()
    assert fidelity.refusals(wf, stack, "azure") == [], "premium allows 15 minutes"


def test_gcp_refuses_last_day_of_month_with_the_schedule_modules_reason() -> None:
    wfs, _ = _repo()
    wf = dataclasses.replace(wfs["queue-drain"], schedule=Schedule("cron", "0 3 L * *", "UTC"))
    [error] = fidelity.refusals(wf, _prod(), "gcp")
    assert error.field == "schedule" and "does not support 'L'" in error.why, error.render()


def test_program_refuses_before_building_anything() -> None:
    wfs, result = _repo()
    bad = dataclasses.replace(wfs["queue-drain"], timeout_s=2000)
    broken = dataclasses.replace(result, workflows=(bad,))  # type: ignore[type-var]
    with pytest.raises(SpecInvalid) as caught:
        program.build(broken, _prod(), commit_of=lambda _wf: "uncommitted")
    fields = sorted({(e.field, e.why.split(" ")[3]) for e in caught.value.errors})
    assert fields == [("timeout", "aws"), ("timeout", "gcp")], fields


def test_aws_backoff_is_approximate_and_says_it_is_not_tunable() -> None:
    wfs, _ = _repo()
    [row] = [x for x in fidelity.assess(wfs["ny-morning-report"], _prod(), "aws") if x.field == "retry.backoff"]
    assert row.fidelity == "approximate" and "not tunable" in row.reason


def test_a_dst_touching_schedule_is_approximate_on_aws_and_exact_on_azure() -> None:
    wfs, _ = _repo()
    wf = dataclasses.replace(wfs["berlin-payroll-sync"], schedule=Schedule("cron", "30 2 * * *", "Europe/Berlin"))
    rows = {t: next(x for x in fidelity.assess(wf, _prod(), t) if x.field == "timezone") for t in ("aws", "azure")}
    assert rows["aws"].fidelity == "approximate" and "DST gap" in rows["aws"].reason
    assert rows["azure"].fidelity == "exact"
    calm = {x.target: x.fidelity for t in ("aws", "gcp")
            for x in fidelity.assess(wfs["berlin-payroll-sync"], _prod(), t) if x.field == "timezone"}
    assert calm == {"aws": "exact", "gcp": "exact"}, "09:15 Berlin is never moved by DST"


def test_explain_prints_field_by_target_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["explain", "queue-drain", "--stack", "prod", "--json", "--root", str(REPO)])
    assert cmd_explain(args) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["stacks"]["prod"]
    assert {(r["field"], r["target"]) for r in rows} == {(f, t) for f in fidelity.FIELDS
                                                         for t in ("aws", "gcp", "onprem")}
    timeout = next(r for r in rows if (r["field"], r["target"]) == ("timeout", "gcp"))
    assert timeout["native"] == "timeout_s=120; attempt_deadline=150s" and timeout["fidelity"] == "exact"
