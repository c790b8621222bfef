"""Crontab integrity, from the user's files to the real host: a block whose end marker was deleted by hand, and a
crontab install the host refuses, each leave the crontab and the active version exactly as they were."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from onprem_engine import Engine, ProviderFailed, write_repo
from onprem_support import Host


def _root(host: Host, repo: str, name: str) -> Path:
    return Path(host.base_dir(repo)) / "workflows" / name


def test_onprem_missing_end_marker_refuses_the_delete_and_changes_nothing(onprem_host: Host, engine: Engine,
                                                                          tmp_path: Path) -> None:
    root = write_repo(tmp_path / "marker", onprem_host, {"mark-a": "1 2 * * *", "mark-b": "3 4 * * *"})
    engine.up(root)
    before, operator = onprem_host.crontab(), "9 9 * * * /bin/true  # the operator's\n"
    table = before.replace("# lockstep:end mark-a\n", "") + operator
    assert onprem_host.as_user("crontab", "-", stdin=table).returncode == 0  # a hand edit lost the end marker
    (root / "workflows" / "mark_a.py").unlink()  # the user removes workflow mark-a: `pulumi up` deletes it
    with pytest.raises(ProviderFailed, match=r"step delete: crontab line \d+ begins the block of 'mark-a' but its "
                                             r"end marker '# lockstep:end mark-a' is missing"):
        engine.up(root)
    assert onprem_host.crontab() == table  # mark-b's block and the operator's line are still there, byte for byte
    assert (_root(onprem_host, "marker", "mark-a") / "current").exists()
    assert json.loads((_root(onprem_host, "marker", "mark-a") / "manifest.json").read_text())["state"] == "active"
    fixed = before + operator  # the marker back where it was (the blocks' order depends on which deploy wrote first)
    assert onprem_host.as_user("crontab", "-", stdin=fixed).returncode == 0  # the operator restores the marker
    engine.up(root)
    assert "mark-a" not in onprem_host.crontab() and "9 9 * * * /bin/true" in onprem_host.crontab()
    for urn in list(engine.state):
        engine.delete(urn)


@pytest.fixture
def refusing_crontab(onprem_host: Host) -> Iterator[None]:
    """Give the deploy user's SSH sessions a `crontab` that lists but refuses to install (as on a full spool)."""
    bin_dir, env = onprem_host.home / "bin", onprem_host.home / ".ssh" / "environment"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "crontab").write_text('#!/bin/sh\n[ "$1" = -l ] && exec /usr/bin/crontab "$@"\n'
                                     'echo "crontab: cannot write the spool file: No space left on device" >&2\n'
                                     'exit 1\n')
    (bin_dir / "crontab").chmod(0o755)
    env.write_text(f"PATH={bin_dir}:/usr/bin:/bin\n")
    for path in (bin_dir, bin_dir / "crontab", env):
        os.chown(path, onprem_host.home.stat().st_uid, onprem_host.home.stat().st_gid)
    try:
        yield
    finally:
        env.unlink(missing_ok=True)


def test_onprem_failed_crontab_install_keeps_the_previous_version_active(onprem_host: Host, engine: Engine,
                                                                         tmp_path: Path,
                                                                         refusing_crontab: None) -> None:
    env = onprem_host.home / ".ssh" / "environment"
    saved = env.read_text()
    env.unlink()
    root = write_repo(tmp_path / "refused", onprem_host, {"refused": "5 6 * * *"})
    (v1,) = engine.up(root).values()
    table = onprem_host.crontab()
    env.write_text(saved)
    (root / "workflows" / "functions" / "refused" / "main.py").write_text("def handler(e, c):\n    print('v2')\n")
    with pytest.raises(ProviderFailed, match=r"step activate: crontab - refused the new table: crontab: cannot "
                                             r"write the spool file: No space left on device; the previous version "
                                             r"stays active"):
        engine.up(root)
    wf = _root(onprem_host, "refused", "refused")
    assert (wf / "current").resolve() == wf / "versions" / v1["version"]  # the old code still runs...
    assert onprem_host.crontab() == table  # ...under the old schedule entry
    assert json.loads((wf / "manifest.json").read_text())["version"] == v1["version"]
    assert not (wf / "manifest.pending.json").exists()
    env.unlink()
    (v2,) = engine.up(root).values()  # once the host accepts crontabs again, the same deploy goes through
    assert v2["version"] != v1["version"] and (wf / "current").resolve() == wf / "versions" / v2["version"]
