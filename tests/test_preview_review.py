"""What a reviewer reads, from the user's side: `lockstep preview` on a scratch git repo, its output and exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.preview_support import edit, git, scratch_repo

LOCKSTEP = [sys.executable, "-m", "infra.cli"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def run(root: Path, cache: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOCKSTEP, "preview", "--root", str(root), "--cache-dir", str(cache), "--stack",
                           "staging", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def test_moving_region_location_and_project_shows_replacements_with_the_property_that_forces_them(
        tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    stack = root / "Pulumi.staging.yaml"
    edit(stack, "region: eu-central-1", "region: eu-west-1")
    edit(stack, "location: westeurope", "location: northeurope")
    edit(stack, "project: acme-lockstep-staging", "project: acme-lockstep-stage2")
    done = run(root, cache, "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = as_json(done)
    deployed = [r for r in doc["resources"] if r["custom"] and not r["type"].startswith("pulumi:providers:")]
    for target, moved in (("aws", 'region "eu-central-1" → "eu-west-1"'),
                          ("azure", 'location "westeurope" → "northeurope"'),
                          ("gcp", 'project "acme-lockstep-staging" → "acme-lockstep-stage2"')):
        mine = [r for r in deployed if r["target"] == target]
        assert mine and {r["change"] for r in mine} == {"replace"}, target
        assert all(any(moved in why for why in r["replace_because"]) for r in mine), target
        assert doc["summary"][target]["replace"] == len(mine) and doc["summary"][target]["same"] == 0
    assert doc["stack_change"]["fields"][0] == {"field": "aws.region", "base": '"eu-central-1"',
                                                "head": '"eu-west-1"'}
    table = run(root, cache).stdout
    assert re.search(r"^aws +0 +28 +0 +0 +0$", table, re.M), table
    assert '    14 replace — forced by provider aws-eu-central-1 → aws-eu-west-1 (region "eu-central-1" → ' \
           '"eu-west-1"):\n      aws:' in table
    assert "\n      aws:lambda/function:Function inventory-snapshot-function\n" in table


def test_moving_an_onprem_host_is_a_replace_because_the_dynamic_providers_diff_says_so(
        tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    edit(root / "Pulumi.staging.yaml", "address: 10.40.0.11", "address: 10.40.0.12")
    doc = as_json(run(root, cache, "--format", "json"))
    onprem = [r for r in doc["resources"] if r["target"] == "onprem" and r["custom"]]
    assert {r["change"] for r in onprem} == {"replace"}
    assert all(r["replace_because"] == ["the provider's diff replaces on host.address"] for r in onprem)
    assert {"path": "host.address", "base": '"10.40.0.11"', "head": '"10.40.0.12"'} in onprem[0]["values"]


def test_switching_off_a_declared_target_needs_an_acknowledgement_and_keeps_its_row_with_the_deletes(
        tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    stack = root / "Pulumi.staging.yaml"
    edit(stack, "  lockstep:gcp:\n", "  lockstep:gcp:\n    enabled: false\n")
    refused = run(root, cache, "--format", "markdown")
    assert refused.returncode == 1
    assert "### ❌" in refused.stdout and "`Pulumi.staging.yaml:12`" in refused.stdout
    assert "lockstep:switchedOff" in refused.stdout
    validate = subprocess.run([*LOCKSTEP, "validate", "--root", str(root)], capture_output=True, text=True,
                              timeout=60)
    assert validate.returncode == 1
    assert validate.stderr.startswith("Pulumi.staging.yaml:12: lockstep:gcp: 'enabled: false' — switches off gcp, "
                                      "which workflows declare (inventory-snapshot, queue-drain)")
    stack.write_text(stack.read_text() + '  lockstep:switchedOff:\n    gcp: "GCP leaves staging (OPS-42)"\n')
    done = run(root, cache, "--format", "markdown")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| gcp (off) | 0 | 0 | 0 | 18 | 0 |" in done.stdout
    assert "gcp is switched off and loses 18 resource(s) (acknowledged: GCP leaves staging (OPS-42))" in done.stdout


def test_removing_a_declared_targets_section_is_refused_by_validate(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    section = "  lockstep:gcp:\n    project: acme-lockstep-staging\n    region: europe-west1\n"
    edit(root / "Pulumi.staging.yaml", section, "")
    validate = subprocess.run([*LOCKSTEP, "validate", "--root", str(root)], capture_output=True, text=True,
                              timeout=60)
    assert validate.returncode == 1
    assert "Pulumi.staging.yaml:2: lockstep:gcp: '(no section)' — switches off gcp" in validate.stderr


def test_a_missing_base_fails_with_exit_2_and_a_blocking_report(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    report = tmp_path / "comment.md"
    started = time.monotonic()
    done = run(root, cache, "--base", "no-such-ref", "--format", "markdown", "--output", str(report))
    assert done.returncode == 2
    assert time.monotonic() - started < 20  # refused before any workflow is built
    assert "lockstep: --base no-such-ref: names no commit in" in done.stderr
    comment = report.read_text()
    assert "### ❌" in comment and "--no-base" in comment
    assert "**BLOCKED: the preview could not run, so nothing in stack staging was previewed: --base no-such-ref" \
        in comment and "does not load" not in comment and "Pulumi.yaml:1" not in comment
    as_json = tmp_path / "out.json"
    assert run(root, cache, "--base", "no-such-ref", "--format", "json", "--output", str(as_json)).returncode == 2
    doc = json.loads(as_json.read_text())
    assert (doc["ok"], doc["exit"], doc["stack"], doc["blocked"]) == (False, 2, "staging", True)
    assert doc["errors"][0]["message"].startswith("lockstep: --base no-such-ref: names no commit in")
    git(root, "branch", "-m", "main", "trunk")
    done = run(root, cache)
    assert done.returncode == 2
    assert "has neither 'main' nor 'origin/main'" in done.stderr and "pass --base REV" in done.stderr
    assert run(root, cache, "--base", "trunk").returncode == 0


def test_a_load_error_reaches_sarif_markdown_and_json(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "hourly_inventory_snapshot.py", 'timeout="3m"', 'timeout="3 minutes"')
    sarif, markdown = tmp_path / "out.sarif", tmp_path / "out.md"
    assert run(root, cache, "--format", "sarif", "--output", str(sarif)).returncode == 1
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("lockstep-load", "error", "workflows/hourly_inventory_snapshot.py", 19)]
    assert run(root, cache, "--format", "markdown", "--output", str(markdown)).returncode == 1
    text = markdown.read_text()
    assert text.startswith("<!-- lockstep-preview -->\n### ❌")
    assert "`workflows/hourly_inventory_snapshot.py:19`" in text
    done = run(root, cache, "--format", "json")
    assert done.returncode == 1
    doc = as_json(done)
    assert doc["blocked"] is True and doc["errors"][0]["field"] == "timeout"


def test_a_timeout_change_leads_with_the_canonical_diff_and_shows_old_to_new_values(
        tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "hourly_inventory_snapshot.py", 'timeout="3m"', 'timeout="4m"')
    (root / "comment.md").write_text("an earlier report: not an input\n", encoding="utf-8")
    done = run(root, cache, "--progress", "always")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^head: working tree = HEAD [0-9a-f]{12} \+ 1 uncommitted file "
                     r"\(workflows/hourly_inventory_snapshot\.py\)$", out, re.M)
    assert '"same" means unchanged from the base revision' in out
    lead = out.index("  update inventory-snapshot (workflows/hourly_inventory_snapshot.py)\n      timeout_s: 180 → 240")
    assert lead < out.index("target ")  # the canonical diff comes before the per-target table
    assert "    update aws:lambda/function:Function inventory-snapshot-function\n        timeout: 180 → 240\n" in out
    assert "9 update(s) only restamp the digest/commit" in out
    assert "lockstep preview: staging: head 2/2 workflow(s)" in done.stderr


def test_an_unwritable_cache_directory_fails_at_once(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    started = time.monotonic()
    done = run(root, blocker / "cache")
    assert done.returncode == 2 and time.monotonic() - started < 20
    assert f"lockstep: --cache-dir {blocker / 'cache'}: is not writable" in done.stderr


def test_a_preview_prunes_packages_unused_for_a_week_and_keeps_the_rest(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    build = tmp_path / "bundles"
    build.mkdir()
    old, fresh, other = (build / f"old-wf-aws-{'a' * 64}.zip", build / f"new-wf-gcp-{'b' * 64}.zip",
                         build / "notes.txt")
    for path in (old, fresh, other):
        path.write_text("x")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(other, (month_ago, month_ago))
    done = run(root, cache, "--no-base", env={"LOCKSTEP_BUILD_DIR": str(build)})
    assert done.returncode == 0, done.stderr
    assert not old.exists() and fresh.exists() and other.exists()
    assert any(p.name.startswith("inventory-snapshot-aws-") for p in build.iterdir())


def test_the_offline_engine_refuses_a_repo_that_does_not_load(tmp_path: Path, cache: Path) -> None:
    from infra.engine.offline import OfflineEngine
    from infra.errors import SpecInvalid

    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "hourly_inventory_snapshot.py", 'timeout="3m"', 'timeout="3 minutes"')
    with pytest.raises(SpecInvalid) as caught:
        OfflineEngine(root, cache_dir=cache).preview("staging")
    assert caught.value.errors[0].field == "timeout"
