"""`lockstep validate` remembers each file's load and each workflow's checks, and prints exactly what it did without."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOCKSTEP = [sys.executable, "-m", "infra.cli"]


def _validate(root: Path, cache: Path | None, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LOCKSTEP_NO_CACHE", "LOCKSTEP_CACHE_DIR")}
    env.update({"LOCKSTEP_CACHE_DIR": str(cache)} if cache is not None else {"LOCKSTEP_NO_CACHE": "1"})
    return subprocess.run([*LOCKSTEP, "validate", "--root", str(root), *extra], capture_output=True, text=True,
                          env=env, timeout=120)


def _commit(root: Path) -> None:
    """Commit the repository: the horizon starts at the commit's date, the same for every run compared."""
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    if not (root / ".git").exists():
        subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "change"], check=True)


def _same(root: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Validate without a memo, with an empty one, then with the filled one: all three print the same."""
    plain = _validate(root, None, *extra)
    first, again = _validate(root, cache, *extra), _validate(root, cache, *extra)
    for run in (first, again):
        assert (run.returncode, run.stdout, run.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    return plain


def _memo_entries(cache: Path) -> dict[str, int]:
    out = {}
    for path in cache.glob("*-memo-*.json"):
        body = json.loads(json.loads(path.read_text())["body"])
        out[path.name.split("-memo-")[0]] = len(body)
    return out


def test_validate_with_its_memo_prints_what_it_prints_without_and_judges_only_what_changed(
        repo_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _commit(repo_copy)
    ok = _same(repo_copy, cache)
    assert ok.returncode == 0 and "6 workflow(s), 2 stack(s), no errors" in ok.stdout
    assert _memo_entries(cache) == {"load": 6, "check": 6 * 2 * 2}  # files; workflows x stacks x (refusals, schedule)
    _same(repo_copy, cache, "--json")

    invoice = repo_copy / "workflows" / "monthly_invoice_run.py"
    invoice.write_text(invoice.read_text().replace("targets={", "targets={'bogus': {}, ", 1))
    _commit(repo_copy)
    broken = _same(repo_copy, cache)
    assert broken.returncode == 1
    assert "workflows/monthly_invoice_run.py:" in broken.stderr and "'bogus'" in broken.stderr, broken.stderr
    _same(repo_copy, cache, "--json")


def test_validate_sees_an_edited_schedule_through_a_warm_memo(repo_copy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _commit(repo_copy)
    assert _validate(repo_copy, cache).returncode == 0
    ledger = repo_copy / "workflows" / "nightly_ledger_export.py"
    ledger.write_text(ledger.read_text().replace('"30 1 * * *"', '"30 2 * * *"').replace('"UTC"', '"Europe/Berlin"'))
    _commit(repo_copy)
    warm, plain = _validate(repo_copy, cache), _validate(repo_copy, None)
    assert (warm.returncode, warm.stdout, warm.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    assert warm.returncode == 1, warm.stdout
    assert "workflows/nightly_ledger_export.py:10: schedule: '30 2 * * *'" in warm.stderr  # a DST divergence now
    ledger.write_text(ledger.read_text().replace('"30 2 * * *"', '"30 1 * * *"').replace('"Europe/Berlin"', '"UTC"'))
    assert _validate(repo_copy, cache).returncode == 0


def test_validate_without_a_writable_cache_directory_still_validates(repo_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    _commit(repo_copy)
    assert _same(repo_copy, blocker / "cache").returncode == 0
    assert not (blocker / "cache").exists()
