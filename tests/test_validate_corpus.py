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


def _expected(case: Path) -> list[str]:
    return [line.removeprefix("# expect: ").rstrip("\n") for line in case.read_text().splitlines()
            if line.startswith("# expect: ")]


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
    assert expected, f"{case.name} has no '# expect:' line"
    assert [e.render() for e in load_repo(root).errors] == expected


@pytest.mark.parametrize("case", STACKS, ids=[p.stem for p in STACKS])
def test_broken_stack_config_is_rejected_with_its_expected_messages(case: Path, tmp_path: Path) -> None:
    root = _scratch(tmp_path, BASE / "valid.py", case)
    expected = _expected(case)
    assert expected, f"{case.name} has no '# expect:' line"
    assert [e.render() for e in load_repo(root).errors] == expected


def test_the_valid_base_case_has_no_errors(tmp_path: Path) -> None:
    root = _scratch(tmp_path, BASE / "valid.py", BASE / "Pulumi.staging.yaml")
    assert load_repo(root).errors == ()
