"""The pack as a whole: it loads without a server, pulumi-policy's private analyzer still works, rules fail closed."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from infra.preflight import analyze
from policies import pack
from policies.rules import stamps_present
from tests.policy_fixtures import reg, run

RULE_FILES = [m.__file__ for m in pack.RULES]


def test_pack_main_imports_its_rules_without_starting_a_server() -> None:
    main = importlib.import_module("policies.__main__")  # PolicyPack() would block here forever
    assert main.POLICIES is pack.POLICIES
    assert "PolicyPack(" in inspect.getsource(main.serve)


def test_every_rule_is_mandatory_carries_compliance_metadata_and_has_a_unique_name() -> None:
    names = [p.name for p in pack.POLICIES]
    assert len(set(names)) == len(names) == len(pack.RULES) == 12
    for policy in pack.POLICIES:
        assert policy.enforcement_level == EnforcementLevel.MANDATORY, policy.name
        assert policy.framework is not None and policy.framework.name == "SOC 2", policy.name
        assert policy.framework.reference in ("CC8.1", "CC6.1", "CC7.2"), policy.name
        assert policy.severity is not None and policy.remediation_steps and policy.tags, policy.name


def test_each_rule_module_stays_within_sixty_lines_of_code() -> None:
    for path in RULE_FILES:
        assert path is not None
        lines = [x for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
        assert len(lines) <= 60, f"{path} has {len(lines)} non-blank lines"


def test_private_policy_analyzer_still_has_the_signature_and_behaviour_we_rely_on() -> None:
    # pulumi-policy==1.21.0 is pinned; if this fails after an upgrade, re-check infra/preflight/analyze.py.
    params = list(inspect.signature(_PolicyAnalyzerServicer.__init__).parameters)
    assert params[:5] == ["self", "name", "version", "policies", "enforcement_level"]
    for method in ("Analyze", "AnalyzeStack", "Configure", "GetAnalyzerInfo"):
        assert callable(getattr(_PolicyAnalyzerServicer, method)), method
    info = analyze.servicer(pack.POLICIES, {}).GetAnalyzerInfo(None, None)
    assert {p.name for p in info.policies} == {p.name for p in pack.POLICIES}
    assert all(p.enforcementLevel == analyze.analyzer_pb2.MANDATORY for p in info.policies)


def test_configuring_a_rule_never_downgrades_it_to_advisory() -> None:
    diags = analyze.analyze_resources(analyze.servicer([stamps_present.POLICY], {"stack": "staging"}),
                                      [reg("aws:lambda/function:Function", "fn", {"tags": {}})])
    assert [d.level for d in diags] == ["mandatory"] and diags[0].blocking


def test_a_mandatory_rule_fails_closed_on_a_value_unknown_at_preview() -> None:
    unknown_tags = reg("aws:lambda/function:Function", "fn", {"tags": UNKNOWN_STRING_VALUE})
    assert run(stamps_present.POLICY, [unknown_tags]) == [
        "[aws] ?: (unknown): string value at .tags can't be known during preview, so this rule cannot judge it and "
        "fails closed — make the value known at preview (a literal or a config value), or compute the resource from "
        "known inputs"]


def test_the_libraries_advisory_cant_run_note_still_blocks_the_gate() -> None:
    def reads_tags(args: Any, report: Any) -> None:
        if args.props["tags"]:
            report("tagged")
    unguarded = ResourceValidationPolicy(name="unguarded", description="d", validate=reads_tags,
                                         enforcement_level=EnforcementLevel.MANDATORY)
    diags = analyze.analyze_resources(analyze.servicer([unguarded], {}), [
        reg("aws:lambda/function:Function", "fn", {"tags": UNKNOWN_STRING_VALUE})])
    assert [(d.level, d.blocking) for d in diags] == [("advisory", True)]
    assert diags[0].message.startswith("can't run policy 'unguarded'")


def test_without_config_the_rules_read_this_repo_and_the_stack_the_cli_previews(monkeypatch: Any) -> None:
    from policies import lib
    from policies.rules import workflow_everywhere

    monkeypatch.setattr(lib, "_KNOWN", {})
    monkeypatch.setenv("PULUMI_STACK", "acme/staging")
    svc = _PolicyAnalyzerServicer("lockstep", "0.1.0", [workflow_everywhere.POLICY], EnforcementLevel.MANDATORY)
    diags = analyze.analyze_stack(svc, analyze.analyzer_pb2.AnalyzeStackRequest())
    assert len(diags) > 6 and all(d.blocking for d in diags)  # nothing deployed: every declared target is missing
    assert "[aws] berlin-payroll-sync: targets: the workflow declares aws but nothing is deployed there in stack " \
           "'staging'" in diags[0].message
    assert (str(lib.REPO_ROOT), "staging") in lib._KNOWN


def test_an_unreadable_repo_blocks_instead_of_passing(monkeypatch: Any) -> None:
    from policies import lib
    from policies.rules import no_orphans

    monkeypatch.delenv("PULUMI_STACK", raising=False)
    svc = _PolicyAnalyzerServicer("lockstep", "0.1.0", [no_orphans.POLICY], EnforcementLevel.MANDATORY)
    [diag] = analyze.analyze_stack(svc, analyze.analyzer_pb2.AnalyzeStackRequest())
    assert diag.blocking and diag.message.endswith(
        "[?] ?: (repo): cannot read the declared workflows: no stack: set the policy config 'stack' or run under "
        "`pulumi preview` — fix the repo or the policy config (repoRoot, stack)")
    assert (lib.REPO_ROOT / "policies" / "pack.py").is_file()  # the default root is the pack's own repo
