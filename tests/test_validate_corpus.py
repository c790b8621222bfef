"""Every broken spec and stack file in tests/corpus is rejected with exactly the messages it expects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.loader import load_repo

CORPUS = Path(__file__).parent / "corpus"
BASE = CORPUS / "base"
SPECS = sorted((CORPUS / "specs").glob("*.py"))
STACKS = sorted((CORPUS / "stacks").glob("*.yaml"))
WARN = "# expect warning: "  # a warning: accepted, but said


def _expected(case: Path, prefix: str = "# expect: ") -> list[str]:
    return [line.removeprefix(prefix).rstrip("\n") for line in case.read_text().splitlines()
            if line.startswith(prefix)]


def _scratch(tmp_path: Path, workflow: Path, stack: Path) -> Path:
    root = tmp_path / "repo"
    (root / "workflows").mkdir(parents=True)
    shutil.copytree(BASE / "functions", root / "workflows" / "functions")
    shutil.copy(workflow, root / "workflows" / workflow.name)
    shutil.copy(stack, root / "Pulumi.staging.yaml")
    return root


def test_the_corpus_covers_every_mistake_the_issue_names() -> None:
    names = {p.stem for p in SPECS} | {p.stem for p in STACKS}
    for mistake in ("unknown_field", "missing_field", "invalid_cron", "unknown_timezone", "duplicate_names",
                    "name_not_dns_safe", "unsupported_schema", "unknown_target", "local_override_of_canonical",
                    "inlined_secret", "missing_function_source", "missing_entry_point", "overlapping_workflows",
                    "syntax_error", "exception_in_module", "unknown_key", "wrong_type", "wave_names_disabled_target"):
        assert mistake in names, f"no corpus case for {mistake}"


@pytest.mark.parametrize("case", SPECS, ids=[p.stem for p in SPECS])
def test_broken_workflow_is_rejected_with_its_expected_messages(case: Path, tmp_path: Path) -> None:
    root = _scratch(tmp_path, case, BASE / "Pulumi.staging.yaml")
    expected = _expected(case)
    assert expected or _expected(case, WARN), f"{case.name} has no '# expect:' line"
    result = load_repo(root)
    assert [e.render() for e in result.errors] == expected
    assert [e.render() for e in result.warnings] == _expected(case, WARN)


@pytest.mark.parametrize("case", STACKS, ids=[p.stem for p in STACKS])
def test_broken_stack_config_is_rejected_with_its_expected_messages(case: Path, tmp_path: Path) -> None:
    root = _scratch(tmp_path, BASE / "valid.py", case)
    expected = _expected(case)
    assert expected or _expected(case, WARN), f"{case.name} has no '# expect:' line"
    result = load_repo(root)
    assert [e.render() for e in result.errors] == expected
    assert [e.render() for e in result.warnings] == _expected(case, WARN)


def test_the_valid_base_case_has_no_errors(tmp_path: Path) -> None:
    root = _scratch(tmp_path, BASE / "valid.py", BASE / "Pulumi.staging.yaml")
    assert load_repo(root).errors == ()


NEW_MISTAKES = ("explicit_none_for_required_field", "secret_named_none", "region_override_not_a_region",
                "empty_secret_name_in_notify", "email_not_an_address", "tz_given_to_a_rate", "legacy_zone_alias",
                "host_for_an_unknown_stack", "quoted_boolean", "duplicate_key", "host_key_type_contradicts_prefix",
                "host_key_not_base64", "address_with_port", "legacy_zone_alias_on_host")


def test_the_corpus_covers_the_accepted_bad_inputs_of_the_review() -> None:
    names = {p.stem for p in SPECS} | {p.stem for p in STACKS}
    assert set(NEW_MISTAKES) <= names, set(NEW_MISTAKES) - names


@pytest.mark.parametrize("case", SPECS + STACKS, ids=[p.stem for p in SPECS + STACKS])
def test_every_stage_of_validate_judges_every_corpus_case_without_an_internal_error(case: Path,
                                                                                   tmp_path: Path) -> None:
    """The whole of `lockstep validate` (limits, hosts, equivalence) runs on each case and only reports."""
    from infra.checks import validate_repo

    spec = case if case.suffix == ".py" else BASE / "valid.py"
    root = _scratch(tmp_path, spec, case if case.suffix == ".yaml" else BASE / "Pulumi.staging.yaml")
    rendered = [e.render() for e in validate_repo(root).errors]
    assert set(_expected(case)) <= set(rendered)
