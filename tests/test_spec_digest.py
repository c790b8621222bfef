"""The spec digest changes with canonical fields and code, and with nothing else."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.loader import load_repo
from infra.model import Workflow

LEDGER = "workflows/nightly_ledger_export.py"


def _digest(root: Path, name: str = "nightly-ledger-export") -> str:
    result = load_repo(root)
    assert result.errors == ()
    return next(w.digest for w in result.workflows if w.name == name)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_digest_is_32_hex_characters(repo_copy: Path) -> None:
    digest = _digest(repo_copy)
    assert len(digest) == 32 and int(digest, 16) >= 0


@pytest.mark.parametrize(("old", "new"), [
    ('cron("30 1 * * *"', 'cron("31 1 * * *"'),
    ('tz="UTC"', 'tz="Europe/London"'),
    ('"runtime": "python3.12"', '"runtime": "python3.11"'),
    ('"attempts": 3', '"attempts": 2'),
    ('timeout="10m"', 'timeout="9m"'),
    ('"EXPORT_PREFIX": "ledger/daily"', '"EXPORT_PREFIX": "ledger/nightly"'),
    ('secret("ledger-db-password")', 'secret("ledger-db-password-v2")'),
    ("mailto:data-oncall@example.com", "mailto:data-platform@example.com"),
    ('notify=["mailto:data-oncall@example.com"]', 'notify=["mailto:data-oncall@example.com", secret("hook")]'),
    ('description="Export the previous', 'description="Export the earlier'),
    ('owner="data-platform@example.com"', 'owner="ledger-team@example.com"'),
    ("allow_overlap=False", "allow_overlap=True"),
    ('"backoff": "exponential"', '"backoff": "fixed"'),
    ('"delay": "1m"', '"delay": "2m"'),
    ('"max_delay": "5m"', '"max_delay": "6m"'),
    ('"max_event_age": "2h"', '"max_event_age": "3h"'),
    ('tz="UTC"', 'tz="UTC", start="2027-01-01T00:00:00+00:00"'),
    ('tz="UTC"', 'tz="UTC", end="2030-01-01T00:00:00+00:00"'),
])
def test_digest_changes_when_a_canonical_field_changes(repo_copy: Path, old: str, new: str) -> None:
    before = _digest(repo_copy)
    _edit(repo_copy / LEDGER, old, new)
    assert _digest(repo_copy) != before


def test_digest_changes_when_one_byte_of_code_changes(repo_copy: Path) -> None:
    before = _digest(repo_copy)
    code = repo_copy / "workflows/functions/ledger_export/main.py"
    code.write_bytes(code.read_bytes().replace(b"ledger/daily", b"ledger/dailz", 1))
    assert _digest(repo_copy) != before


def test_digest_changes_when_a_code_file_is_added(repo_copy: Path) -> None:
    before = _digest(repo_copy)
    (repo_copy / "workflows/functions/ledger_export/schema.json").write_text("{}")
    assert _digest(repo_copy) != before


@pytest.mark.parametrize(("old", "new"), [
    ('"onprem": {"host": "batch-01"}', '"onprem": {"host": "batch-01", "memory_mb": 2048}'),
    ('"aws": {}', '"aws": {"region": "us-east-1", "memory_mb": 1024}'),
    ('"memory_mb": 512', '"memory_mb": 768'),  # memory is local: a per-target value with a workflow default
])
def test_digest_does_not_change_when_a_local_field_changes(repo_copy: Path, old: str, new: str) -> None:
    before = _digest(repo_copy)
    _edit(repo_copy / LEDGER, old, new)
    assert _digest(repo_copy) == before


def test_digest_ignores_mtimes_caches_and_file_creation_order(repo_copy: Path) -> None:
    before = _digest(repo_copy)
    code_dir = repo_copy / "workflows/functions/ledger_export"
    for path in code_dir.iterdir():
        os.utime(path, (time.time() - 86400, time.time() - 86400))
    (code_dir / "__pycache__").mkdir(exist_ok=True)
    (code_dir / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0junk")
    main = code_dir / "main.py"
    content = main.read_bytes()
    main.unlink()
    main.write_bytes(content)  # recreated last: a different directory order on most file systems
    assert _digest(repo_copy) == before


def test_digest_is_the_same_under_any_hash_seed(repo_copy: Path) -> None:
    script = "import sys; from pathlib import Path; from infra.loader import load_repo; " \
             "print(sorted(w.digest for w in load_repo(Path(sys.argv[1])).workflows))"
    outputs = {subprocess.run([sys.executable, "-c", script, str(repo_copy)], capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout for seed in ("1", "987")}
    assert len(outputs) == 1 and _digest(repo_copy) in outputs.pop()


def test_workflow_is_immutable_after_load(repo_copy: Path) -> None:
    wf: Workflow = load_repo(repo_copy).workflows[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        wf.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        wf.function.env["NEW"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        wf.targets[0].overrides["region"] = "x"  # type: ignore[index]
