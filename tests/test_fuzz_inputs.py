"""No input reaches an internal error: hypothesis writes workflow arguments and stack files, every stage judges them.

Each example runs what `lockstep validate` runs on it (the loader's checks, then host lookup, platform limits and
schedule equivalence on whatever the loader accepted); any exception other than a reported error fails the test.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import dsl, fidelity, hosts
from infra.config import load_stack
from infra.errors import SpecError
from infra.fields import Reporter
from infra.model import StackConfig, Workflow
from infra.schedule.workflow_check import check_workflow
from infra.validate import build_workflow

CORPUS = Path(__file__).parent / "corpus"
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 100000), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["", " ", "UTC", "EST", "US/Central", "5m", "0 3 * * *",
                                                           "mailto:a@b.co", "mailto:x", "batch-01", "eu-west-1",
                                                           "premium", "exponential", "python3.12", "aws"]))
leaf = st.one_of(scalars, st.builds(dsl.secret, scalars))
values = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.text(max_size=8) | scalars, inner, max_size=3)),
                      max_leaves=6)
schedules = st.one_of(values, st.builds(lambda e, o: dsl.cron(e, **o), st.one_of(scalars, st.sampled_from(
    ["0 3 * * *", "30 2 * * *", "0 9 * * MON#1", "0 9 L * *", "*/15 * * * *", "@daily", "0 2 * * 7"])),
    st.dictionaries(st.sampled_from(["tz", "start", "end", "every"]), st.one_of(scalars, st.just(START)),
                    max_size=2)),
    st.builds(lambda e, o: dsl.rate(e, **o), st.one_of(scalars, st.sampled_from(["15 minutes", "1 hour", "0 days"])),
              st.dictionaries(st.sampled_from(["tz", "start"]), scalars, max_size=1)))
overrides = st.dictionaries(
    st.sampled_from(["region", "location", "plan", "host", "memory_mb", "timeout"]),
    st.one_of(values, st.dictionaries(st.sampled_from(["staging", "prod", "dev"]), scalars, max_size=2)), max_size=2)
targets = st.dictionaries(st.sampled_from(["aws", "azure", "gcp", "onprem", "ibm"]), st.one_of(values, overrides),
                          max_size=4)
GOOD: dict[str, Any] = {
    "name": "fuzz-job", "schema": 1, "description": "A fuzzed job.", "owner": "team@example.com",
    "schedule": dsl.cron("0 3 * * *"), "function": {"source": "functions/job", "entry": "main.handler",
                                                   "runtime": "python3.12"}, "targets": {"aws": {}, "onprem": {}},
}
fields = {"name": values, "schema": values, "description": values, "owner": values, "schedule": schedules,
          "function": st.one_of(values, st.dictionaries(st.sampled_from(
              ["source", "entry", "runtime", "memory_mb", "env", "secrets"]), values, max_size=4)),
          "retry": values, "timeout": values, "allow_overlap": values, "notify": values, "targets": targets,
          "accept": st.one_of(values, st.lists(st.builds(lambda a: dsl.divergence(**a), st.dictionaries(
              st.sampled_from(["target", "kind", "reason"]), scalars, max_size=3)), max_size=2))}
# Each example changes a few fields of a valid workflow (so later stages run often) and may drop some.
declarations = st.fixed_dictionaries({}, optional={k: v for k, v in fields.items()}).flatmap(
    lambda changed: st.sets(st.sampled_from(sorted(GOOD)), max_size=2).map(
        lambda dropped: {k: v for k, v in {**GOOD, **changed}.items() if k not in dropped}))


def _stack(tmp: Path, name: str = "staging") -> StackConfig:
    stack, errors = load_stack(CORPUS / "base" / "Pulumi.staging.yaml", "Pulumi.staging.yaml", name)
    assert stack and not errors
    return stack


def _later_stages(wf: Workflow, stacks: list[StackConfig], limits: bool = True) -> None:
    """Run what validate runs after the loader: host lookup, then limits and equivalence on usable pairs."""
    blocked: set[tuple[str, str]] = set()
    hosts.check(wf, stacks, {s.name for s in stacks}, blocked, [])
    for stack in stacks:
        if (wf.name, stack.name) in blocked:
            continue
        for target in wf.targets_in(stack) if limits else ():
            fidelity.refusals(wf, stack, target)
        check_workflow(wf, stack, horizon_days=20, start=START)


@FUZZ
@given(args=declarations)
def test_no_workflow_arguments_reach_an_internal_error(args: dict[str, Any], tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    if not (root / "workflows").exists():
        shutil.copytree(CORPUS / "base" / "functions", root / "workflows" / "functions")
    decl = dsl.Declaration("workflow", args, str(root / "workflows" / "fuzz.py"), 3)
    rep, partial = Reporter("workflows/fuzz.py", {}, 3), []
    wf = build_workflow(decl, "workflows/fuzz.py", root, {}, rep, partial)
    assert all(isinstance(e, SpecError) and e.render() for e in rep.errors)
    assert (wf is None) == bool(rep.errors)
    stacks = [_stack(root), _stack(root, "prod")]
    if wf is not None:
        _later_stages(wf, stacks)
    for stand_in in partial:  # a declaration with errors elsewhere is still judged for equivalence
        _later_stages(stand_in, stacks, limits=False)


stack_values = st.one_of(scalars, st.lists(scalars, max_size=2), st.just({"a": 1}))
host = st.fixed_dictionaries({}, optional={
    k: st.one_of(stack_values, st.just(v)) for k, v in {
        "name": "batch-01", "address": "10.0.0.1", "port": 22, "user": "lockstep", "scheduler": "cron",
        "timezone": "UTC", "baseDir": "/var/lib/lockstep",
        "hostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE13ASCeGgMfQ08EL4Q1u+wUK64cU20KDFB+tfrrm/+p"}.items()})
sections = {
    "lockstep:aws": st.fixed_dictionaries({}, optional={"region": st.one_of(stack_values, st.just("eu-west-1")),
                                                        "enabled": stack_values}),
    "lockstep:azure": st.fixed_dictionaries({}, optional={
        "location": st.one_of(stack_values, st.just("westeurope")), "plan": st.sampled_from(
            ["consumption", "flex-consumption", "premium", "x"]), "os": st.sampled_from(["linux", "windows", 1]),
        "keyVault": stack_values, "resourceGroup": stack_values, "enabled": stack_values}),
    "lockstep:gcp": st.fixed_dictionaries({}, optional={"project": st.one_of(stack_values, st.just("acme-corpus-1")),
                                                        "region": st.one_of(stack_values, st.just("europe-west1"))}),
    "lockstep:onprem": st.fixed_dictionaries({}, optional={"hosts": st.one_of(stack_values, st.lists(host, max_size=2)),
                                                           "privateKeyEnv": stack_values}),
    "lockstep:rollout": st.one_of(stack_values, st.fixed_dictionaries({"waves": st.one_of(stack_values, st.lists(
        st.lists(st.sampled_from(["aws", "azure", "gcp", "onprem", "x"]), max_size=2), max_size=3))})),
}
stack_docs = st.one_of(stack_values, st.fixed_dictionaries({"config": st.one_of(stack_values, st.fixed_dictionaries(
    {}, optional={k: st.one_of(v, stack_values) for k, v in sections.items()}))}))


@FUZZ
@given(doc=stack_docs, raw=st.sampled_from(["", "config: {a: 1, a: 2}\n", "\ufeffconfig:\n  x: [\n", "- - -\n"]))
def test_no_stack_file_reaches_an_internal_error(doc: object, raw: str, tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("fuzzstack")
    path = root / "Pulumi.staging.yaml"
    path.write_text(raw or yaml.safe_dump(doc), encoding="utf-8")
    stack, errors = load_stack(path, path.name, "staging", [])
    assert all(isinstance(e, SpecError) and e.render() for e in errors)
    assert (stack is None) == bool(errors)
    if stack is not None:
        shutil.copytree(CORPUS / "base" / "functions", root / "workflows" / "functions")
        rep = Reporter("workflows/fuzz.py", {}, 3)
        for targets_ in ({"aws": {}, "azure": {}, "gcp": {}, "onprem": {}}, {"onprem": {"host": "batch-01"}}):
            decl = dsl.Declaration("workflow", {**GOOD, "targets": targets_}, str(root / "workflows" / "f.py"), 3)
            wf = build_workflow(decl, "workflows/fuzz.py", root, {}, rep)
            assert wf is not None, [e.render() for e in rep.errors]
            _later_stages(wf, [stack])
