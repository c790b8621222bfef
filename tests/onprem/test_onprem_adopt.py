"""Adopting a crontab line, from the user's side to the real host: `lockstep import discover` and `adopt` over SSH,
`validate` and the offline preview on the files adopt wrote, then the program's registration applied through the
SDK's dynamic-provider process (Pulumi's part played by `Engine`) against the real sshd and crontab.

The create swaps the adopted line for Lockstep's block in one `crontab -` install; a line changed since adopt is
refused with the crontab left exactly as it was. The line holds a token: it must reach no file, record or state.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from onprem_engine import STACK, Engine, ProviderFailed, host_yaml, write_stack
from onprem_support import Host

from tests.drift.support import run

TOKEN = "tok-3f9a1c7e55"  # stands for a credential someone put on a crontab line
ADOPTED = f"17 3 * * * /opt/jobs/export.sh --token={TOKEN} >/dev/null 2>&1"
OTHERS = "MAILTO=ops@example.com\n# the queue poller stays as it is\n*/5 * * * * /opt/jobs/poll.sh\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True, text=True)


def lockstep(*argv: str) -> tuple[int, Any]:
    code, out = run(*argv)
    return code, json.loads(out)


@pytest.fixture
def estate(onprem_host: Host, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A repo with the e2e stack on the live host, and the host user's crontab with two hand-made lines added."""
    root = tmp_path / "repo"
    (root / "workflows").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: lockstep\nruntime: python\nmain: infra/\n")
    write_stack(root, host_yaml(onprem_host, "box-01", onprem_host.base_dir(tmp_path.name)))
    before = onprem_host.crontab()
    table = before + OTHERS + ADOPTED + "\n"
    assert onprem_host.as_user("crontab", "-", stdin=table).returncode == 0
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the stack, before adopting")
    git(root, "checkout", "-q", "-b", "adopt")  # the pull request that adopts the line
    try:
        yield root, table
    finally:
        onprem_host.as_user("crontab", "-", stdin=before)


def _key(root: Path) -> str:
    code, found = lockstep("import", "discover", "--root", str(root), "--stack", STACK, "--json")
    assert (code, found["errors"]) == (0, []), found
    keys = [i["key"] for i in found["items"] if i.get("calls", "").startswith("/opt/jobs/export.sh")]
    assert len(keys) == 1, found["items"]
    return keys[0]


def _adopt(root: Path, key: str) -> tuple[int, Any]:
    return lockstep("import", "adopt", key, "--root", str(root), "--stack", STACK, "--owner", "ops@example.com",
                    "--json")


def _adopted(root: Path) -> str:
    key = _key(root)
    code, out = _adopt(root, key)  # a crontab line runs a command: the function is the user's to write
    assert code == 1 and "a crontab line runs a command" in out["errors"][0]["message"], out
    fn = root / "workflows" / "functions" / "export"
    fn.mkdir(parents=True)
    (fn / "main.py").write_text("def handler(event, context):\n    print('export ran')\n")
    code, out = _adopt(root, key)
    assert code == 0, out
    assert out["written"] == ["workflows/export.py", "workflows/export.import.json"]
    return key


def test_the_first_deploy_swaps_the_adopted_line_for_its_block_and_keeps_every_other_line(
        estate: tuple[Path, str], engine: Engine, onprem_host: Host) -> None:
    root, table = estate
    key = _adopted(root)
    record = json.loads((root / "workflows" / "export.import.json").read_text())
    child = record["stacks"][STACK]["onprem"]["host"]
    assert set(child) == {"id", "host", "line"} and child["host"] == "box-01" and len(child["line"]) == 64
    written = "".join(p.read_text() for p in (root / "workflows").rglob("*") if p.is_file())
    assert TOKEN not in written and "export.sh" not in written  # the line's text reaches no file in git
    assert run("validate", "--root", str(root))[0] == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"adopt {key}")

    code, report = lockstep("preview", "--root", str(root), "--stack", STACK, "--format", "json")
    assert code == 0 and not report["blocked"], report.get("violations")
    mine = [r for r in report["resources"] if r["workflow"] == "export" and r["custom"]]
    assert [(r["change"], r["import_id"]) for r in mine] == [("import", child["id"])]  # adopted, no second copy
    assert report["summary"]["onprem"]["create"] == 0

    outs = engine.up(root)
    after = onprem_host.crontab()
    assert ADOPTED not in after and after.startswith(table.removesuffix(ADOPTED + "\n"))  # every other line kept
    assert "# lockstep:begin export " in after and after.count("lockstep:begin export ") == 1
    (deployed,) = outs.values()  # the runner fires at the adopted time, which the host manifest holds
    assert deployed["canonical"]["schedule"]["expression"] == "17 3 * * *"
    assert TOKEN not in json.dumps(outs)
    assert engine.up(root) and onprem_host.crontab() == after  # the record still there: nothing more happens
    assert engine.steps == ["create export-host"]


def test_a_line_changed_since_adopt_is_refused_and_the_crontab_is_left_as_it_is(
        estate: tuple[Path, str], engine: Engine, onprem_host: Host) -> None:
    root, table = estate
    _adopted(root)
    changed = table.replace(f"--token={TOKEN}", "--token=rotated")
    assert onprem_host.as_user("crontab", "-", stdin=changed).returncode == 0
    with pytest.raises(ProviderFailed, match="is not in the crontab any more"):
        engine.up(root)
    assert onprem_host.crontab() == changed


def test_a_record_that_adopts_a_line_on_another_host_is_refused_by_validate(estate: tuple[Path, str]) -> None:
    root, _ = estate
    _adopted(root)
    path = root / "workflows" / "export.import.json"
    path.write_text(path.read_text().replace('"host": "box-01"', '"host": "box-02"'))
    code, out = lockstep("validate", "--root", str(root), "--json")
    assert code == 1
    (error,) = out["errors"]
    assert (error["path"], error["field"], error["value"]) == (
        "workflows/export.import.json", f"import.stacks.{STACK}.onprem.host.host", "box-02")
    assert error["line"] > 1 and "runs on 'box-01'" in error["message"]
