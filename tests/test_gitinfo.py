"""Commit stamps come from real git; a failing git call raises with git's own words instead of stamping a guess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra.gitinfo import UNCOMMITTED, GitError, commits
from infra.loader import load_repo
from tests.preview_support import scratch_repo


def test_a_missing_revision_raises_naming_the_command_and_gits_error(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    with pytest.raises(GitError, match=r"git log .* nosuchrev -- in .* failed: fatal: bad revision 'nosuchrev'"):
        commits(root, load_repo(root).workflows, "nosuchrev")


def test_a_plain_directory_and_a_repository_without_commits_stamp_uncommitted(tmp_path: Path) -> None:
    plain = scratch_repo(tmp_path / "repo")
    workflows = load_repo(plain).workflows
    subprocess.run(["rm", "-rf", str(plain / ".git")], check=True)
    assert {commits(plain, workflows)(wf) for wf in workflows} == {UNCOMMITTED}
    subprocess.run(["git", "-C", str(plain), "init", "-q"], check=True)
    assert {commits(plain, workflows)(wf) for wf in workflows} == {UNCOMMITTED}


def test_committed_workflows_stamp_their_own_last_commit(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    workflows = load_repo(root).workflows
    assert {commits(root, workflows)(wf) for wf in workflows} == {head}
