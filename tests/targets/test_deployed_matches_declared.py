"""Fault injection: a component that registers any other value than the workflow's Desired blocks the gate.

Each case makes one target's component deploy a Desired with one attribute changed (as a bug in the component
would), runs the real program for that workflow under Pulumi's mocks, then the real policy through pulumi-policy's
analyzer, and asserts the exact violation. The rule's own Desired comes from the untouched translate.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.fidelity import show
from infra.loader import LoadResult, load_repo
from infra.model import StackConfig, Workflow
from infra.preflight import analyze
from infra.preflight.evaluate import run_capture
from infra.preflight.run import default_builder, preview
from infra.program import Providers, build_one
from infra.targets.base import Translation, attributes
from infra.targets.registry import TARGETS
from policies import lib
from policies.rules import deployed_matches_declared, schedule_equivalence
from tests.preview_support import scratch_repo

REPO = Path(__file__).resolve().parents[2]
COMMIT = "0" * 40
# Where a target's Desired comes from other than its component: the provider the program passes in.
PROVIDED = {"aws": {"region"}, "azure": {"location"}, "gcp": {"project", "region"}, "onprem": set()}
# (target, workflow): a workflow that gives every attribute of the target a value worth changing.
CASES = {"aws": "nightly-ledger-export", "azure": "monthly-invoice-run", "gcp": "nightly-ledger-export",
         "onprem": "nightly-ledger-export"}


# Attributes with a closed set of values: another member of the set.
CHOICES = {"sku": "EP2", "plan": "dedicated", "scheduler": "systemd", "backoff": "fixed", "host_timezone": "Asia/Tokyo",
           "schedule_expression": "cron(45 3 * * ? *)", "schedule": "45 3 * * *", "runtime": "python3.11",
           "time_zone": "Europe/Paris", "schedule_timezone": "Europe/Paris"}
# On-prem, the runner executes the canonical spec: a component bug shows as a wrong value inside it.
SPEC_PATHS = {"schedule": ("schedule", "expression"), "timezone": ("schedule", "timezone"),
              "start": ("schedule", "start"), "end": ("schedule", "end"), "attempts": ("retry", "attempts"),
              "backoff": ("retry", "backoff"), "delay_s": ("retry", "delay_s"), "max_delay_s": ("retry", "max_delay_s"),
              "max_event_age_s": ("retry", "max_event_age_s"), "timeout_s": ("timeout_s",),
              "run_lock": ("allow_overlap",), "notify": ("notify",), "secrets": ("function", "secrets"),
              "env": ("function", "env"), "runtime": ("function", "runtime"), "entry": ("function", "entry")}
ONPREM_SPEC_VALUES = {"schedule": "45 3 * * *", "timezone": "Europe/Paris", "start": "2030-01-01T00:00:00+00:00",
                      "end": "2030-01-01T00:00:00+00:00", "runtime": "python3.11", "backoff": "fixed"}


def other(value: Any, attribute: str = "") -> Any:
    """Return a different value of the same shape (what a buggy component might register)."""
    if attribute in CHOICES and CHOICES[attribute] != value:
        return CHOICES[attribute]
    if value is None:
        return "2030-01-01T00:00:00Z" if "date" in attribute or attribute in ("start", "end") else \
            5 if attribute == "reserved_concurrency" else "Europe/Paris"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x" if value else "x"
    if isinstance(value, tuple):
        return (*value, "injected@example.com")
    if isinstance(value, dict) and attribute == "stamps":
        return {**value, "lockstep-digest": "0" * 32}
    if isinstance(value, dict):  # one more entry, shaped like the others (a secret reference stays one)
        return dict(sorted({**value, "INJECTED": next(iter(value.values()), "1")}.items()))
    raise AssertionError(f"no other value for {value!r}")


def _result() -> tuple[LoadResult, StackConfig]:
    result = load_repo(REPO).require_valid()
    stack = result.stack("prod")
    assert stack.azure is not None
    stack = dataclasses.replace(stack, azure=dataclasses.replace(stack.azure, key_vault="kv", resource_group="rg"))
    return dataclasses.replace(result, stacks=tuple(s if s.name != "prod" else stack for s in result.stacks)), stack


def judge(result: LoadResult, stack: StackConfig, wf: Workflow, target: str) -> list[str]:
    """Build one workflow on one target under mocks and return the two rules' violation messages."""
    only = dataclasses.replace(stack, **{t: None for t in TARGETS if t != target})  # type: ignore[arg-type]
    cap = run_capture(lambda: _ignore(build_one(wf, only, REPO, COMMIT, providers=Providers(only))), stack.name)
    lib.provide(result, stack.name)
    policies = [deployed_matches_declared.POLICY, schedule_equivalence.POLICY]
    svc = analyze.servicer(policies, {"repoRoot": str(REPO), "stack": stack.name, "workflows": [wf.name]})
    request = analyze.stack_request(cap.registrations, cap.outputs)
    return [d.message.split("\n", 1)[-1] for d in analyze.analyze_stack(svc, request)]  # after the description


def _ignore(_value: object) -> None:
    return None


def inject(monkeypatch: pytest.MonkeyPatch, target: str, change: Callable[[Any], Any]) -> None:
    """Make the target's component deploy a changed Desired, leaving the rule's translate untouched."""
    module = importlib.import_module(f"infra.targets.{target}.component")
    real = module.translate

    def faulty(wf: Workflow, stack: StackConfig) -> Translation[Any]:
        t = real(wf, stack)
        return dataclasses.replace(t, desired=change(t.desired))
    monkeypatch.setattr(module, "translate", faulty)


def _changed(desired: Any, attribute: str, wrong: Any) -> Any:
    """Return the desired state a buggy component deploys: one attribute changed (on-prem: inside the spec)."""
    path = SPEC_PATHS.get(attribute) if hasattr(desired, "spec") else None
    if path is None:
        return dataclasses.replace(desired, **{attribute: wrong})
    spec = json.loads(json.dumps(desired.spec))
    holder = spec
    for key in path[:-1]:
        holder = holder[key]
    value = ONPREM_SPEC_VALUES.get(attribute, wrong)
    holder[path[-1]] = (not value if attribute == "run_lock" else list(value) if isinstance(value, tuple) else value)
    return dataclasses.replace(desired, spec=spec)


def compared(target: str, result: LoadResult, stack: StackConfig) -> list[tuple[str, str, object]]:
    wf = next(w for w in result.workflows if w.name == CASES[target])
    return [a for a in attributes(TARGETS[target].translate(wf, stack).desired) if a[1] not in PROVIDED[target]]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_every_attribute_a_component_registers_wrongly_is_named_with_both_values(
        target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result, stack = _result()
    wf = next(w for w in result.workflows if w.name == CASES[target])
    assert judge(result, stack, wf, target) == [], "the untouched component registers its Desired"
    missed = []
    for canonical, attribute, value in compared(target, result, stack):
        if attribute in ("spec_digest", "schedule_zone", "plan"):
            continue  # derived (from the spec, the host zone, the SKU), which their own cases change
        wrong = other(value, attribute)
        inject(monkeypatch, target, lambda d, a=attribute, w=wrong: _changed(d, a, w))
        expected = (f"[{target}] {wf.name}: {canonical}: {attribute}: registered {show(wrong)!r}, declared "
                    f"{show(value)!r} — the {target} component deploys another value than the workflow declares; "
                    f"fix infra/targets/{target}/component.py (or its translate.py)")
        found = judge(result, stack, wf, target)
        if target == "onprem" and attribute in SPEC_PATHS:  # registered value derived from the changed spec
            head = f"[onprem] {wf.name}: {canonical}: {attribute}: registered "
            tail = (f", declared {show(value)!r} — the onprem component deploys another value than the workflow "
                    "declares; fix infra/targets/onprem/component.py (or its translate.py)")
            hit = any(m.startswith(head) and m.endswith(tail) for m in found)
        else:
            hit = expected in found
        if not hit:
            missed.append((attribute, found))
        monkeypatch.undo()
    assert missed == [], missed


def test_a_registered_schedule_is_judged_by_its_own_fire_times(monkeypatch: pytest.MonkeyPatch) -> None:
    result, stack = _result()
    wf = next(w for w in result.workflows if w.name == "nightly-ledger-export")
    inject(monkeypatch, "aws", lambda d: dataclasses.replace(d, schedule_expression="cron(30 2 * * ? *)"))
    found = judge(result, stack, wf, "aws")
    assert any(m.startswith("[aws] nightly-ledger-export: schedule: nightly-ledger-export on aws (aws): day-rule")
               for m in found), found


def test_a_component_bug_blocks_lockstep_preview_naming_file_and_line(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = scratch_repo(tmp_path / "repo")
    inject(monkeypatch, "gcp", lambda d: dataclasses.replace(d, timeout_s=d.timeout_s - 60))
    # The bug is patched into this process, so the program is built here (the CLI builds it in a child process).
    out = preview(root, "staging", cache_dir=tmp_path / "cache", builder=default_builder())
    assert out.blocked
    found = [(v.target, v.workflow, v.rule, v.path, v.line, v.message) for v in out.violations
             if v.rule == "deployed-matches-declared"]
    assert found == [
        ("gcp", "inventory-snapshot", "deployed-matches-declared", "workflows/hourly_inventory_snapshot.py", 19,
         "timeout: timeout_s: registered '120', declared '180' — the gcp component deploys another value than the "
         "workflow declares; fix infra/targets/gcp/component.py (or its translate.py)"),
        ("gcp", "queue-drain", "deployed-matches-declared", "workflows/quarter_hour_queue_drain.py", 19,
         "timeout: timeout_s: registered '60', declared '120' — the gcp component deploys another value than the "
         "workflow declares; fix infra/targets/gcp/component.py (or its translate.py)"),
    ]


def test_a_provider_in_another_region_than_declared_blocks_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi_aws

    from infra.targets.aws.component import Workflow as AwsWorkflow

    result, stack = _result()
    wf = next(w for w in result.workflows if w.name == "nightly-ledger-export")
    monkeypatch.setattr(AwsWorkflow, "new_provider",
                        staticmethod(lambda name, d: pulumi_aws.Provider(name, region="us-west-2")))
    assert ("[aws] nightly-ledger-export: region: region: registered 'us-west-2', declared 'eu-central-1' — the aws "
            "component deploys another value than the workflow declares; fix infra/targets/aws/component.py (or its "
            "translate.py)") in judge(result, stack, wf, "aws")
