"""The whole import, from the user's side, over all four targets at once: the messy estate planted on moto, drongo
and the fake ARM (tests/importer/estate.py) and a host's hand-made crontab and timers behind a real sshd
(tests/importer/host.py); `lockstep import discover` on the staging stack, the overlap report, `adopt` of one
workflow from each target, `validate`, then the offline preview: what exists live is imported, never created.

The preview runs the program under Pulumi's mocks (no Pulumi CLI here): it proves the registrations carry the import
IDs and the adopted crontab line, not that a real `pulumi up` ran (tests/onprem/test_onprem_adopt.py applies the
on-prem one to a real host).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.drift.support import run
from tests.importer import estate
from tests.importer.host import UNITS, onprem_config
from tests.importer.test_adopt_azure import LIVE as AZURE_LIVE
from tests.importer.test_adopt_azure import OWN
from tests.importer.test_adopt_imports import LIVE as CLOUD_LIVE
from tests.importer.test_adopt_imports import NIGHTLY, WEEKLY, git, lockstep

HOST = "onprem:batch-07:batch-07:"  # then the line number in `crontab -l`, or the timer unit
HOST_ITEMS = {f"{HOST}{n}" for n in (3, 4, 6, 7, 8, 9, 10, 11, 13)} | {f"{HOST}{u}.timer" for u in UNITS}
HOST_EXACT, HOST_NEAR = {f"{HOST}6", f"{HOST}7", f"{HOST}report.timer"}, {f"{HOST}3", f"{HOST}4"}
HOST_NOT_WORKFLOWS = {f"{HOST}{k}" for k in ("9", "11", "13", "warm.timer", "old-export.timer",
                                             "lockstep-payroll-sync.timer")}
POLL = f"{HOST}10"  # */10 * * * * /opt/jobs/poll.sh


def _on_the_host(root: Path, port: int, host_key: str) -> None:
    """Point the staging stack's on-prem section at the test host, and the declared workflow at that host."""
    stack = root / "Pulumi.staging.yaml"
    text = stack.read_text()
    stack.write_text(text[:text.index("  lockstep:onprem:")] + onprem_config(port, host_key))
    declared = root / "workflows" / "nightly_ledger_export.py"
    declared.write_text(declared.read_text().replace('"host": "batch-01"',
                                                  '"host": {"staging": "batch-07", "prod": "batch-01"}'))


def test_discover_adopt_validate_preview_over_aws_gcp_azure_and_a_host(estate_repo: Path,
                                                                       host: tuple[int, str]) -> None:
    root = estate_repo
    _on_the_host(root, *host)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before adopting")
    git(root, "checkout", "-q", "-b", "adopt")

    code, report = lockstep("import", "discover", "--root", str(root), "--stack", "staging", "--json")
    assert (code, report["errors"]) == (0, [])
    items = {i["key"] for i in report["items"]}
    cloud = set().union(*estate.EXACT, *estate.NEAR, estate.NOT_WORKFLOWS)
    unique = estate.UNIQUE_AWS + estate.UNIQUE_GCP + estate.UNIQUE_AZURE + estate.INLINE_AZURE
    assert cloud | HOST_ITEMS <= items and len(items) == len(cloud) + unique + len(HOST_ITEMS)
    assert {i["target"] for i in report["items"]} == {"aws", "gcp", "azure", "onprem"}
    groups = {(g["kind"], frozenset(g["members"])) for g in report["groups"]}
    assert groups == ({("exact", frozenset(g)) for g in [*estate.EXACT, HOST_EXACT]}
                      | {("near", frozenset(g)) for g in [*estate.NEAR, HOST_NEAR]})
    total = len(items) - len(estate.NOT_WORKFLOWS) - len(HOST_NOT_WORKFLOWS)
    overlapping = sum(len(g) for g in [*estate.EXACT, *estate.NEAR, HOST_EXACT, HOST_NEAR])
    assert total >= 30 and report["overlap"]["total"] == total
    assert report["overlap"]["overlapping"] == overlapping

    for name, code_of in (("nightly_report", "report"), ("weekly_digest_v2", "digest"), ("azjob_0", "az-0")):
        estate.write_source(root / "workflows" / "functions" / name, code_of)  # the code the platforms would not hand
    (root / "workflows" / "functions" / "poll").mkdir()
    (root / "workflows" / "functions" / "poll" / "main.py").write_text("def handler(event, context):\n    pass\n")
    code, out = lockstep("import", "adopt", NIGHTLY, WEEKLY, OWN, POLL, "--root", str(root), "--stack", "staging",
                         "--owner", "data-platform@example.com", "--json")
    assert code == 0, out
    assert len(out["written"]) == 8
    assert run("validate", "--root", str(root))[0] == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt one workflow from each target")

    code, report = lockstep("preview", "--root", str(root), "--stack", "staging", "--format", "json")
    assert code == 0 and not report["blocked"], report["violations"]
    record = json.loads((root / "workflows" / "poll.import.json").read_text())["stacks"]["staging"]["onprem"]
    live = {**CLOUD_LIVE, **{k: v for k, v in AZURE_LIVE.items() if k == "azjob-0"},
            "poll": {("pulumi-python:dynamic/lockstep-onprem:Workflow", record["host"]["id"])}}
    for workflow, expected in live.items():
        mine = [r for r in report["resources"] if r["workflow"] == workflow and r["custom"]]
        imported = {(r["type"], r["import_id"]) for r in mine if r["change"] == "import"}
        assert imported == expected, (workflow, imported)
        created = {r["type"] for r in mine if r["change"] == "create"}
        assert not created & {t for t, _ in expected}, (workflow, created)  # nothing that runs live is made again
    assert {r["change"] for r in report["resources"] if r["workflow"] == "poll" and r["custom"]} == {"import"}
    assert report["summary"]["onprem"]["import"] == 1 and report["summary"]["onprem"]["create"] == 0
