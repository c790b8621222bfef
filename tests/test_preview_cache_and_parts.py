"""The preview's parts: cache invalidation by code, batched commit stamps, slices equal to the whole program."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict

from infra.gitinfo import UNCOMMITTED, commits, workflow_paths
from infra.loader import load_repo
from infra.model import Workflow
from infra.preflight import cache as cache_mod
from infra.preflight import run as run_mod
from infra.preflight.capture import capture
from infra.preflight.evaluate import run_capture
from infra.program import build
from tests.preview_support import REPO, edit, git, scratch_repo


def code_copy(dest: Path) -> Path:
    for top in ("infra", "policies"):
        shutil.copytree(REPO / top, dest / top, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    return dest


@pytest.mark.parametrize("changed", ["infra/program.py", "policies/rules/no_orphans.py"])
def test_changing_infra_or_policies_code_invalidates_every_cached_workflow(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changed: str) -> None:
    root = scratch_repo(tmp_path / "repo")
    monkeypatch.setattr(run_mod, "CODE_ROOT", code_copy(tmp_path / "code"))
    run_mod.preview(root, "staging", cache_dir=tmp_path / "cache", compare=False)
    warm = run_mod.preview(root, "staging", cache_dir=tmp_path / "cache", compare=False)
    assert (warm.stats["cache_hits"], warm.stats["cache_misses"]) == (2, 0)
    with (tmp_path / "code" / changed).open("a", encoding="utf-8") as fh:
        fh.write("\n# a change to the code that builds or judges the resources\n")
    after = run_mod.preview(root, "staging", cache_dir=tmp_path / "cache", compare=False)
    assert (after.stats["cache_hits"], after.stats["cache_misses"]) == (0, 2)


def test_code_hash_ignores_caches_and_the_packs_virtualenv(tmp_path: Path) -> None:
    code = code_copy(tmp_path)
    before = cache_mod.code_hash(code)
    (code / "policies" / "venv" / "lib").mkdir(parents=True)
    (code / "policies" / "venv" / "lib" / "x.py").write_text("x = 1\n")
    assert cache_mod.code_hash(code) == before


def commit_of(root: Path) -> Callable[[Workflow], str]:
    """The definition, one workflow at a time: the oracle the batched version must agree with."""
    def of(wf: Workflow) -> str:
        paths = workflow_paths(wf)
        if git(root, "status", "--porcelain", "--", *paths).strip():
            return UNCOMMITTED
        return git(root, "log", "-1", "--format=%H", "--", *paths).strip() or UNCOMMITTED
    return of


def test_batched_commit_stamps_equal_gitinfo_for_clean_and_dirty_workflows(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "hourly_inventory_snapshot.py", 'timeout="3m"', 'timeout="4m"')
    git(root, "commit", "-q", "-am", "second")
    edit(root / "workflows" / "quarter_hour_queue_drain.py", 'timeout="2m"', 'timeout="3m"')
    result = load_repo(root)
    slow, fast = commit_of(root), commits(root, result.workflows)
    assert [fast(wf) for wf in result.workflows] == [slow(wf) for wf in result.workflows]
    assert sorted(fast(wf) for wf in result.workflows)[1] == "uncommitted"


def test_per_workflow_slices_register_exactly_what_the_whole_program_registers(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    result = load_repo(root)
    stack = result.stack("staging")
    whole = capture(lambda: _none(build(result, stack, commit_of=lambda wf: "0" * 40)), stack="staging")
    builder = run_mod.default_builder()
    parts = [run_capture(lambda wf=wf: _none(builder(wf, stack, root, "0" * 40)), "staging")
             for wf in result.workflows]
    sliced = {r.urn: MessageToDict(r.object) for p in parts for r in p.registrations}
    assert sliced == {r.urn: MessageToDict(r.object) for r in whole.registrations}


def _none(_value: object) -> None:
    return None


def test_judging_workflow_by_workflow_gives_the_verdict_of_one_run_over_the_whole_stack(tmp_path: Path) -> None:
    import dataclasses

    import pulumi_aws as aws

    from infra.preflight import analyze
    from infra.stamps import stamps
    from policies import lib, pack

    root = scratch_repo(tmp_path / "repo")
    real = run_mod.default_builder()

    def faulty(wf, stack, root_, commit):  # type: ignore[no-untyped-def]
        real(wf, stack, root_, commit)
        ghost = dataclasses.replace(wf, name=f"ghost-{wf.name}")
        aws.sqs.Queue(f"{wf.name}-orphan", tags=stamps(ghost, "aws", commit))
        aws.lambda_.Permission(f"{wf.name}-open", action="lambda:InvokeFunction", function="f", principal="*")

    offline = run_mod.preview(root, "staging", compare=False, builder=faulty)
    result = load_repo(root)
    stack = result.stack("staging")
    commit_of = commits(root, result.workflows)
    whole = [r for wf in result.workflows
             for r in run_capture(lambda wf=wf: faulty(wf, stack, root, commit_of(wf)), "staging").registrations]
    lib.provide(result, "staging")
    svc = analyze.servicer(pack.POLICIES, {"repoRoot": str(result.root), "stack": "staging"})
    once = analyze.analyze_resources(svc, whole) + analyze.analyze_stack(svc, analyze.stack_request(whole))
    texts = [(d.policy, d.message.split("\n", 1)[-1]) for d in once]
    assert sorted((p, t.split(": ", 1)[1]) for p, t in texts) == sorted((v.rule, v.message) for v in offline.violations)
    assert {v.rule for v in offline.violations} == {"no-orphans", "no-public-invoke"}
