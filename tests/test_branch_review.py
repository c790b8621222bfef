"""On a pull request's branch: a reused name is blamed on the branch's new file, and Lockstep's own files are not
the user's changes."""

from __future__ import annotations

from pathlib import Path

from infra.loader import load_repo
from infra.preflight.review import head_state
from tests.preview_support import git, scratch_repo


def test_a_duplicate_name_committed_on_a_branch_is_blamed_on_the_new_file(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    git(root, "checkout", "-q", "-b", "feature")
    original = (root / "workflows" / "quarter_hour_queue_drain.py").read_text(encoding="utf-8")
    (root / "workflows" / "a_copy.py").write_text(original.replace('cron("*/15 * * * *"', 'cron("5 * * * *"'),
                                                  encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "copy")
    [error] = [e for e in load_repo(root).errors if e.field == "name"]
    assert error.path == "workflows/a_copy.py", error.render()
    assert "is already used by workflows/quarter_hour_queue_drain.py" in error.why


def test_lockstep_own_cache_files_are_not_reported_as_uncommitted_changes(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    (root / ".lockstep" / "cache").mkdir(parents=True)
    (root / ".lockstep" / "cache" / "slice.json").write_text("{}", encoding="utf-8")
    assert head_state(root).startswith("HEAD ") and "uncommitted" not in head_state(root)
