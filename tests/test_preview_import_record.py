"""A broken import record stops `lockstep preview` with the record's own file, line and field, as validate says it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.preview_support import REPO, scratch_repo

LOCKSTEP = [sys.executable, "-m", "infra.cli"]
# An adopted Azure app whose record lost the resource group the app must stay in.
RECORD = {"workflow": "inventory-snapshot", "stacks": {"staging": {"azure": {"function": {
    "id": "/subscriptions/0000/resourceGroups/ops/providers/Microsoft.Web/sites/inventory", "name": "inventory"}}}}}
SAID = ("workflows/hourly_inventory_snapshot.import.json:1: import.stacks.staging.azure.function.group")


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOCKSTEP, *args, "--root", str(root)], capture_output=True, text=True, cwd=REPO,
                          timeout=600)


def test_preview_refuses_a_broken_record_by_file_line_and_field_like_validate(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    (root / "workflows" / "hourly_inventory_snapshot.import.json").write_text(json.dumps(RECORD), encoding="utf-8")

    validate = _run(root, "validate")
    preview = _run(root, "preview", "--stack", "staging", "--no-base")
    as_json = _run(root, "preview", "--stack", "staging", "--no-base", "--format", "json")

    assert validate.returncode == 1 and SAID in validate.stdout + validate.stderr
    assert preview.returncode == 1, preview.stdout + preview.stderr
    assert SAID in preview.stdout
    assert "program" not in preview.stdout and "Traceback" not in preview.stderr + preview.stdout
    messages = json.dumps(json.loads(as_json.stdout))
    assert as_json.returncode == 1 and "import.stacks.staging.azure.function.group" in messages


def test_validate_echoes_a_name_that_is_not_a_string(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    record = json.loads(json.dumps(RECORD))
    record["stacks"]["staging"]["azure"]["function"].update(name=5, group="ops")
    (root / "workflows" / "hourly_inventory_snapshot.import.json").write_text(json.dumps(record), encoding="utf-8")

    done = _run(root, "validate")

    assert done.returncode == 1
    said = done.stdout + done.stderr
    assert "import.stacks.staging.azure.function.name: 5 — is not a name" in said, said
