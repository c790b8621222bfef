"""The program under mocks: every example builds on every stack; parents, providers, stamps, no collisions."""

from __future__ import annotations

import importlib
import zipfile
from collections import Counter
from pathlib import Path

import pulumi
import pytest
from targets_support import (
    REPO,
    build_capture,
    one,
    prod,
    scratch_repo,
    staging,
    with_staging_vault,
    without_staging_vault,
)

from infra import naming, program
from infra.bundle import bundle
from infra.errors import SpecInvalid, UsageError
from infra.loader import load_repo
from infra.preflight.capture import Capture, capture
from infra.stamps import KEYS
from infra.targets.registry import TARGETS

REAL_TYPES = {
    "aws": ("aws:scheduler/schedule:Schedule", "aws:lambda/function:Function"),
    "azure": ("azure-native:web:WebApp", "azure-native:web:AppServicePlan"),
    "gcp": ("gcp:cloudscheduler/job:Job", "gcp:cloudfunctionsv2/function:Function"),
    "onprem": ("pulumi-python:dynamic/lockstep-onprem:Workflow",),
}
# Types whose provider schema takes no tags/labels (policies/rules/stamps_present.py lists the same).
UNTAGGABLE = {"aws:iam/rolePolicy:RolePolicy", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
              "aws:scheduler/schedule:Schedule", "aws:sns/topicSubscription:TopicSubscription",
              "azure-native:storage:BlobContainer", "azure-native:storage:Blob",
              "azure-native:authorization:RoleAssignment", "gcp:cloudscheduler/job:Job",
              "gcp:cloudrunv2/serviceIamMember:ServiceIamMember", "gcp:serviceaccount/account:Account",
              "gcp:storage/bucketObject:BucketObject", "gcp:secretmanager/secretIamMember:SecretIamMember",
              "gcp:monitoring/alertPolicy:AlertPolicy", "gcp:monitoring/notificationChannel:NotificationChannel"}
STAMP_FIELD = {"aws:": "tags", "azure-native:": "tags", "gcp:": "labels", "pulumi-python:": "stamps"}


def _staging(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    return staging(lambda: tmp_path_factory.mktemp("staging"))


def _assert_every_workflow_has_real_resources(cap: Capture, stack: str, root: Path) -> None:
    result = load_repo(root)
    enabled = result.stack(stack).enabled()
    for wf in result.workflows:
        top = one(cap, "lockstep:index:Workflow", wf.name).urn
        for target in (t for t in wf.target_names() if t in enabled):
            component = one(cap, f"lockstep:{target}:Workflow", f"{wf.name}-{target}").urn
            assert cap.by_urn(component).parent == top, component
            types = {r.type for r in cap.children(component)}
            missing = [t for t in REAL_TYPES[target] if t not in types]
            assert not missing, f"{component} lacks {missing}"


def test_every_example_workflow_builds_every_target_for_prod() -> None:
    _assert_every_workflow_has_real_resources(prod(), "prod", REPO)


def test_every_example_workflow_builds_every_target_for_staging(tmp_path_factory: pytest.TempPathFactory) -> None:
    cap = _staging(tmp_path_factory)
    assert len(cap.of_type("lockstep:index:Workflow")) == 6
    _assert_every_workflow_has_real_resources(cap, "staging", REPO)


def test_staging_without_a_key_vault_refuses_azure_secrets_naming_file_and_line(tmp_path: Path) -> None:
    root = without_staging_vault(scratch_repo(tmp_path))
    with pytest.raises(SpecInvalid) as caught:
        build_capture(load_repo(root).require_valid(), "staging")
    first = caught.value.errors[0].render()
    assert first.startswith("workflows/berlin_payroll_sync.py:18: secrets: ['PAYROLL_API_TOKEN'] — is impossible "
                            "on azure"), first
    assert "lockstep:azure.keyVault" in first, first


def test_every_deployed_resource_carries_the_five_stamps() -> None:
    for r in prod().registrations:
        prefix = next((p for p in STAMP_FIELD if r.type.startswith(p)), None)
        if not r.custom or prefix is None or r.type in UNTAGGABLE or r.type.startswith("pulumi:providers:"):
            continue
        found = r.inputs.get(STAMP_FIELD[prefix]) or {}
        assert all(found.get(k) for k in KEYS), f"{r.urn} lacks stamps: {found}"
        assert found["lockstep-target"] == {"aws:": "aws", "azure-native:": "azure", "gcp:": "gcp",
                                            "pulumi-python:": "onprem"}[prefix], r.urn


def test_untaggable_resources_sit_under_a_stamped_target_component() -> None:
    cap = prod()
    for r in cap.registrations:
        if r.type in UNTAGGABLE:
            assert ":Workflow::" in r.parent and cap.by_urn(r.parent).type.startswith("lockstep:"), r.urn


def test_two_workflows_never_collide_in_urns_or_physical_names() -> None:
    cap = prod()
    urns = Counter(r.urn for r in cap.registrations)
    assert [u for u, n in urns.items() if n > 1] == []
    names: Counter[tuple[str, str]] = Counter()
    for r in cap.registrations:
        for key in ("name", "accountName", "accountId", "resourceGroupName", "workspaceName", "resourceName",
                    "actionGroupName", "ruleName"):
            value = r.inputs.get(key)
            if isinstance(value, str) and r.custom and not r.type.startswith("pulumi:providers"):
                if key == "resourceGroupName" and r.type != "azure-native:resources:ResourceGroup":
                    continue
                names[(r.type, value)] += 1
    assert [k for k, n in names.items() if n > 1] == []


def test_long_names_that_share_a_prefix_still_differ() -> None:
    a = naming.physical("lockstep", "production", "a" * 40 + "-one", "scheduler", limit=64)
    b = naming.physical("lockstep", "production", "a" * 40 + "-two", "scheduler", limit=64)
    assert a != b and len(a) <= 64 and len(b) <= 64


def test_children_inherit_the_explicit_providers_of_the_top_component() -> None:
    cap = prod()
    top = one(cap, "lockstep:index:Workflow", "queue-drain")
    assert set(top.options["providers"]) == {"aws", "gcp"}, top.urn
    fn = next(r for r in cap.of_type("aws:lambda/function:Function") if r.name == "queue-drain-function")
    assert fn.provider.startswith(top.options["providers"]["aws"].split("::")[0]), fn.urn
    assert len(cap.of_type("pulumi:providers:aws")) == 1, "one provider per region, shared by every workflow"


def test_each_target_folder_has_the_same_files_and_surface() -> None:
    folders = {p.name for p in (REPO / "infra" / "targets").iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(TARGETS), "every target folder is listed in infra/targets/registry.py, and only those"
    for name, spec in TARGETS.items():
        files = {p.name for p in (REPO / "infra" / "targets" / name).glob("*.py")}
        assert {"facts.py", "translate.py", "component.py", "normalize.py"} <= files, name
        component = spec.component()
        assert component.__name__ == "Workflow" and callable(spec.translate) and callable(spec.normalize), name
        assert f"lockstep:{name}:Workflow" == importlib.import_module(component.__module__).TYPE


def test_wrong_stack_config_stops_the_program_with_the_validate_errors(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path)
    path = root / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("plan: premium", "plan: gold"))
    with pytest.raises(SpecInvalid) as caught:
        program.run(root, "prod")
    assert [e.render() for e in caught.value.errors] == [e.render() for e in load_repo(root).errors]
    assert "Pulumi.prod.yaml" in caught.value.errors[0].render()


def test_a_missing_stack_is_refused_with_the_stacks_there_are(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"there is no Pulumi.dev.yaml in .*; stacks here: prod, staging"):
        program.run(with_staging_vault(scratch_repo(tmp_path)), "dev")


def test_packages_are_deterministic_zips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = load_repo(REPO).workflows[0]
    first = bundle(wf, REPO, "gcp")
    monkeypatch.setenv("LOCKSTEP_BUILD_DIR", str(tmp_path))
    second = bundle(wf, REPO, "gcp")
    assert first.sha256 == second.sha256 and first.path != second.path
    with zipfile.ZipFile(second.path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {(i.date_time, i.external_attr >> 16) for i in infos} == {((1980, 1, 1, 0, 0, 0), 0o100644)}


def test_every_shim_is_valid_python_that_imports_the_workflows_handler() -> None:
    from infra.bundle import shim_files

    for wf in load_repo(REPO).workflows:
        for platform in ("aws", "azure", "gcp"):
            for name, text in shim_files(platform).items():
                if name.endswith(".py"):
                    compile(text, f"{wf.name}/{platform}/{name}", "exec")
                    assert 'os.environ["LOCKSTEP_ENTRY"].rpartition(".")' in text.decode(), f"{platform}/{name}"


def test_the_pulumi_entry_point_builds_the_selected_stack() -> None:
    cap = capture(program.main, stack="prod")
    assert len(cap.of_type("lockstep:index:Workflow")) == len(load_repo(REPO).workflows)
    commits = {r.inputs["tags"]["lockstep-commit"] for r in cap.of_type("aws:lambda/function:Function")}
    assert all(c == "uncommitted" or len(c) == 40 for c in commits), commits


def test_the_pulumi_entry_point_turns_user_errors_into_a_run_error_without_traceback() -> None:
    with pytest.raises(pulumi.RunError, match=r"(?s)lockstep: 1 error\(s\).*stack 'dev': there is no Pulumi.dev.yaml"):
        capture(program.main, stack="dev")


def test_the_gcp_and_aws_shims_run_the_users_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import sys
    import types

    wf = next(w for w in load_repo(REPO).workflows if w.name == "queue-drain")
    cap = prod()
    registered = {"gcp": one(cap, "gcp:cloudfunctionsv2/function:Function", "queue-drain-function")
                  .inputs["serviceConfig"]["environmentVariables"],
                  "aws": one(cap, "aws:lambda/function:Function", "queue-drain-function")
                  .inputs["environment"]["variables"]}
    fake = types.ModuleType("functions_framework")
    fake.http = lambda fn: fn  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "functions_framework", fake)
    for platform, entry, call in (("gcp", "main.py", "lockstep"), ("aws", "lockstep_handler.py", "handler")):
        target = tmp_path / platform
        monkeypatch.setenv("LOCKSTEP_ENTRY", registered[platform]["LOCKSTEP_ENTRY"])  # as the platform sets it
        with zipfile.ZipFile(bundle(wf, REPO, platform).path) as archive:
            archive.extractall(target)
        spec = importlib.util.spec_from_file_location("main" if platform == "gcp" else "lockstep_handler",
                                                      target / entry)
        assert spec and spec.loader
        shim = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, shim)  # as functions-framework registers main.py
        spec.loader.exec_module(shim)
        args = (types.SimpleNamespace(headers={}),) if platform == "gcp" else ({}, None)
        result = getattr(shim, call)(*args)
        assert result == ("ok", 200) if platform == "gcp" else isinstance(result, dict), (platform, result)
        monkeypatch.delitem(sys.modules, "lockstep_user_main", raising=False)
