"""`lockstep validate` from the user's side: the command, its output and its exit code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

LOCKSTEP = [sys.executable, "-m", "infra.cli"]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOCKSTEP, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_validate_prints_the_inventory_of_the_example_workflows(repo_copy: Path) -> None:
    result = _run("validate", "--root", str(repo_copy))
    assert result.returncode == 0, result.stderr
    assert "6 workflow(s), 2 stack(s), no errors" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("monthly-invoice-run"))
    assert row.split()[7:11] == ["x", "x", "-", "x"]  # aws azure gcp onprem: GCP has no '#'
    assert "waves [onprem] -> [aws] -> [gcp, azure]" in result.stdout


def test_validate_finds_the_repo_from_a_subdirectory(repo_copy: Path) -> None:
    result = _run("validate", cwd=repo_copy / "workflows" / "functions")
    assert result.returncode == 0, result.stderr


def test_validate_reports_every_error_at_once_and_exits_1(repo_copy: Path) -> None:
    ledger = repo_copy / "workflows/nightly_ledger_export.py"
    ledger.write_text(ledger.read_text().replace('"30 1 * * *"', '"30 1 * * * *"').replace('"UTC"', '"Utc/Nowhere"'))
    stack = repo_copy / "Pulumi.prod.yaml"
    stack.write_text(stack.read_text().replace("scheduler: systemd", "scheduler: upstart"))
    result = _run("validate", "--root", str(repo_copy))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("workflows/nightly_ledger_export.py:10: schedule.expression: '30 1 * * * *'")
               for line in lines), lines
    assert any(line.startswith("workflows/nightly_ledger_export.py:10: schedule.tz: 'Utc/Nowhere'") for line in lines)
    assert any(line.startswith("Pulumi.prod.yaml:29: lockstep:onprem.hosts[1].scheduler: 'upstart'") for line in lines)
    assert lines[-1] == "lockstep validate: 3 error(s); nothing is valid until all are fixed"
    assert "Traceback" not in result.stderr


def test_validate_json_lists_errors_with_their_parts(repo_copy: Path) -> None:
    (repo_copy / "workflows/broken.py").write_text("from infra.dsl import workflow\nraise RuntimeError('boom')\n")
    result = _run("validate", "--root", str(repo_copy), "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["errors"] == [{
        "path": "workflows/broken.py", "line": 2, "field": "(module)", "value": "RuntimeError: boom",
        "why": "raised while loading", "fix": "fix the code at this line; workflow files should only declare "
        "workflows", "message": "workflows/broken.py:2: (module): 'RuntimeError: boom' — raised while loading — fix "
        "the code at this line; workflow files should only declare workflows"}]


def test_validate_json_inventory_names_targets_per_stack(repo_copy: Path) -> None:
    result = _run("validate", "--root", str(repo_copy), "--json")
    data = json.loads(result.stdout)
    drain = next(w for w in data["workflows"] if w["name"] == "queue-drain")
    assert drain["targets"] == ["aws", "gcp", "onprem"]
    assert drain["stacks"]["prod"] == ["aws", "gcp", "onprem"]
    assert drain["file"] == "workflows/quarter_hour_queue_drain.py:5"


def test_an_inlined_secret_is_never_echoed(repo_copy: Path) -> None:
    ledger = repo_copy / "workflows/nightly_ledger_export.py"
    ledger.write_text(ledger.read_text().replace('secret("ledger-db-password")', '"S3cr3t-Value-123"'))
    result = _run("validate", "--root", str(repo_copy), "--json")
    assert result.returncode == 1
    assert "S3cr3t-Value-123" not in result.stdout + result.stderr
    assert "inlined secret value where a reference is required" in result.stdout


def test_validate_rejects_a_local_time_that_platforms_fire_differently_across_dst(repo_copy: Path) -> None:
    payroll = repo_copy / "workflows/berlin_payroll_sync.py"
    payroll.write_text(payroll.read_text().replace('"15 9 * * MON-FRI"', '"30 2 * * *"'))
    result = _run("validate", "--root", str(repo_copy))
    assert result.returncode == 1
    aws = [line for line in result.stderr.splitlines() if "fires differently on aws" in line]
    assert len(aws) == 1, result.stderr
    # The horizon starts today, so the first spring-forward night is the next last Sunday of March.
    assert re.fullmatch(
        r"workflows/berlin_payroll_sync\.py:11: schedule: '30 2 \* \* \*' — fires differently on aws \(aws\): "
        r"dst-gap first at 20\d\d-03-(2[5-9]|3[01])T01:30:00Z: Europe/Berlin springs forward [^—]+ — fix the "
        r"schedule, or accept it with divergence\(target='aws', kind='dst-gap', reason=\.\.\.\)", aws[0]), aws[0]


def test_an_accepted_divergence_with_a_reason_passes_validation(repo_copy: Path) -> None:
    payroll = repo_copy / "workflows/berlin_payroll_sync.py"
    text = payroll.read_text().replace('"15 9 * * MON-FRI"', '"30 2 * * *"')
    text = text.replace("from infra.dsl import cron, secret, workflow",
                        "from infra.dsl import cron, divergence, secret, workflow")
    reason = "The sync is idempotent and a skipped or shifted run on the DST night is caught up the next day."
    accepts = ", ".join(f"divergence(target={t!r}, kind={k!r}, reason={reason!r})"
                        for t in ("aws", "azure", "gcp", "onprem") for k in ("dst-gap", "dst-overlap", "assumed"))
    text = text.replace("    targets=", f"    accept=[{accepts}],\n    targets=")
    payroll.write_text(text)
    result = _run("validate", "--root", str(repo_copy))
    assert result.returncode == 0, result.stderr


def test_a_helper_module_beside_the_workflows_can_be_imported(repo_copy: Path) -> None:
    (repo_copy / "workflows/_owners.py").write_text('PLATFORM = "platform@example.com"\n')
    drain = repo_copy / "workflows/quarter_hour_queue_drain.py"
    drain.write_text(drain.read_text().replace('from infra.dsl import cron, workflow',
                                               'from _owners import PLATFORM\nfrom infra.dsl import cron, workflow')
                     .replace('owner="platform@example.com"', "owner=PLATFORM"))
    result = _run("validate", "--root", str(repo_copy))
    assert result.returncode == 0, result.stderr


def test_a_file_that_is_not_utf8_is_reported_not_raised(repo_copy: Path) -> None:
    (repo_copy / "workflows/latin1.py").write_bytes("# Gr\xfc\xdfe\n".encode("latin-1"))
    result = _run("validate", "--root", str(repo_copy))
    assert result.returncode == 1
    assert result.stderr.startswith("workflows/latin1.py:1: (file): 'UnicodeDecodeError' — cannot be read as UTF-8")
