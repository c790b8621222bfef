"""End to end: the real program under mocks, the real pack in-process, the base revision, one verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.preflight.plan import counts
from infra.preflight.run import preview
from tests.preview_support import edit, scratch_repo


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_an_unchanged_repo_passes_on_every_target_and_changes_nothing(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    result = preview(root, "staging", cache_dir=cache)
    assert [v.message for v in result.violations if v.blocking] == []
    assert not result.blocked
    table = counts(result.changes)
    assert set(table) == {"aws", "azure", "gcp", "onprem"}
    assert all(row["create"] == row["update"] == row["delete"] == 0 and row["same"] > 0 for row in table.values())


def test_nth_weekday_on_a_gcp_workflow_blocks_the_preview_and_names_gcp(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "quarter_hour_queue_drain.py", 'cron("*/15 * * * *"', 'cron("0 6 * * MON#1"')
    result = preview(root, "staging", cache_dir=cache)
    assert result.blocked
    found = {(v.target, v.rule, v.workflow, v.path, v.line) for v in result.violations if v.blocking}
    assert found == {
        ("gcp", "schedule-equivalence", "queue-drain", "workflows/quarter_hour_queue_drain.py", 10),
        ("gcp", "workflow-on-every-target", "queue-drain", "workflows/quarter_hour_queue_drain.py", 22),
    }
    table = counts(result.changes)
    assert table["aws"]["update"] > 0 and table["onprem"]["update"] == 1  # the other targets' plan is still shown
    assert table["gcp"]["delete"] > 0 and table["gcp"]["create"] == 0


def test_a_timeout_over_azure_consumptions_ten_minutes_blocks_the_preview(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    edit(root / "Pulumi.staging.yaml", "plan: premium", "plan: consumption")
    edit(root / "workflows" / "hourly_inventory_snapshot.py", 'timeout="3m"', 'timeout="15m"')
    result = preview(root, "staging", cache_dir=cache)
    assert result.blocked
    blocking = [v for v in result.violations if v.blocking]
    assert {v.target for v in blocking} == {"azure"}
    timeout = next(v for v in blocking if v.rule == "canonical-fields-within-tolerance")
    assert (timeout.workflow, timeout.path, timeout.line) == ("inventory-snapshot",
                                                              "workflows/hourly_inventory_snapshot.py", 19)
    assert timeout.message == (
        "timeout: is impossible on azure: timeout 900 s exceeds the Azure Consumption plan's maximum functionTimeout "
        "of 600 s (10 min) — use timeout <= 10m, or a premium / flex-consumption / dedicated plan")
    assert counts(result.changes)["aws"]["update"] > 0


def test_a_second_preview_reuses_every_workflow_from_the_cache(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    preview(root, "staging", cache_dir=cache)
    again = preview(root, "staging", cache_dir=cache)
    assert again.stats["cache_misses"] == 0 and again.stats["cache_hits"] == 4  # head and base, two workflows each


def test_a_removed_workflow_shows_as_deletes_on_every_target_it_had(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    (root / "workflows" / "quarter_hour_queue_drain.py").unlink()
    result = preview(root, "staging", cache_dir=cache)
    deleted = {c.resource.target for c in result.changes if c.op == "delete" and c.resource.custom}
    assert deleted == {"aws", "gcp", "onprem"}
    assert all(c.op in ("same", "delete") for c in result.changes)
    assert not result.blocked


def test_a_change_to_a_helper_module_reloads_the_whole_base(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    (root / "workflows" / "_shared.py").write_text("OWNER = 'x'\n")
    result = preview(root, "staging", cache_dir=cache)
    assert {c.op for c in result.changes} == {"same"} and not result.blocked


def test_a_workflow_no_target_can_build_is_still_judged_and_blocks(tmp_path: Path, cache: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    path = root / "workflows" / "quarter_hour_queue_drain.py"
    edit(path, 'retry={"attempts": 1}', 'retry={"attempts": 10}')
    edit(path, 'targets={"aws": {}, "gcp": {}, "onprem": {"host": "batch-01"}}', 'targets={"aws": {}, "gcp": {}}')
    result = preview(root, "staging", cache_dir=cache)
    found = {(v.target, v.rule) for v in result.violations if v.blocking and v.workflow == "queue-drain"}
    assert found == {("aws", "canonical-fields-within-tolerance"), ("gcp", "canonical-fields-within-tolerance"),
                     ("aws", "workflow-on-every-target"), ("gcp", "workflow-on-every-target")}
    assert counts(result.changes)["aws"]["delete"] > 0  # its old resources would go; the other workflow stays


def test_a_changed_variable_reads_as_the_azure_setting_by_name_and_its_stamps_as_restamps(tmp_path: Path,
                                                                                          cache: Path) -> None:
    from infra.preflight import report_common

    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "hourly_inventory_snapshot.py", '"ber,nyc,sgp"', '"ber,nyc,sgp,syd"')
    result = preview(root, "staging", cache_dir=cache)
    azure = next(g for g in report_common.groups(result.changes)
                 if g.target == "azure" and g.workflow == "inventory-snapshot")
    lines = [line for c in azure.shown for line in report_common.leaf_lines(c, report_common.group_pairs(azure))]
    assert 'siteConfig.appSettings.WAREHOUSES: "ber,nyc,sgp" → "ber,nyc,sgp,syd"' in lines
    assert not [line for line in lines if "appSettings[" in line or "LOCKSTEP_DIGEST" in line]
    assert report_common.tally(azure).startswith("1 to update")
