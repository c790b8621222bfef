"""The gate as CI runs it: one process per pull request, main's signed cache restored, a pool on a cold run.

Each CI-shaped run is a fresh `lockstep preview` process over a scratch git repo, with the cache directory copied
as actions/cache restores it, and the environment the workflows in .github/ set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra import cli
from infra.preflight import cache as cache_mod
from infra.preflight import isolate, report_json, report_markdown, report_sarif, signing
from infra.preflight.run import preview
from tests.preview_support import REPO, edit, git, scratch_repo

CHANGED = "hourly_inventory_snapshot.py"
# A fresh process; with "forbid", any child process that would build a workflow ends the run instead.
SCRIPT = """
import sys
sys.path.insert(0, sys.argv.pop(1))
if sys.argv.pop(1) == "forbid":
    from infra.preflight import isolate
    def _start():
        raise SystemExit("a workflow was built although every slice should come from the cache")
    isolate._start = _start
from infra.cli import main
sys.exit(main())
"""
LEAK = """import os as _os, pathlib as _pathlib
_pathlib.Path({marker!r}).write_text(_os.environ.get("LOCKSTEP_CACHE_SIGNING_KEY", "absent"))
"""


@dataclass(frozen=True)
class Main:
    """What main's CI run left: the repo, its signed cache (as saved), its reports, and the key pair."""

    root: Path
    cache: Path
    out: Path
    private: str
    public: str
    marker: Path


def ci_run(tmp: Path, root: Path, cache: Path, out: Path, *, sign: str = "", public: str = "",
           forbid_capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `lockstep preview` as preview.yml does: both stacks, SARIF per stack and one markdown comment."""
    home = tmp / f"home-{out.name}"  # a fresh runner: its own (unused) machine key and package directory
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "LOCKSTEP_CACHE_DIR": str(cache),
           "LOCKSTEP_CACHE_TRUST": "signed", "LOCKSTEP_CACHE_PUBLIC_KEY": public,
           "LOCKSTEP_BUILD_DIR": str(home / "bundles")}
    env.pop("LOCKSTEP_NO_CACHE", None)
    if sign:
        env["LOCKSTEP_CACHE_SIGNING_KEY"] = sign
    argv = ["preview", "--stack", "staging", "--stack", "prod", "--base", "main", "--progress", "never",
            "--root", str(root), "--format", "sarif", "--output", str(out / "{stack}.sarif"),
            "--format", "markdown", "--output", str(out / "comment.md"),
            "--format", "json", "--output", str(out / "{stack}.json")]
    return subprocess.run([sys.executable, "-c", SCRIPT, str(REPO), "forbid" if forbid_capture else "allow",
                           *argv], capture_output=True, text=True, timeout=600, cwd=tmp, env=env)


def stats(out: Path) -> dict[str, dict[str, int]]:
    return {s: json.loads((out / f"{s}.json").read_text(encoding="utf-8"))["stats"] for s in ("staging", "prod")}


def reports(out: Path) -> dict[str, str]:
    """Every report's text; JSON without its stats (hit counts and seconds differ by design)."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir())}
    for name in [n for n in texts if n.endswith(".json")]:
        doc = json.loads(texts[name])
        doc.pop("stats")
        texts[name] = json.dumps(doc)
    return texts


def restore(saved: Path, dest: Path) -> Path:
    """Copy a saved cache as actions/cache restores it (a new directory with the same files)."""
    shutil.copytree(saved, dest)
    return dest


@pytest.fixture(scope="module")
def main_run(tmp_path_factory: pytest.TempPathFactory) -> Main:
    tmp = tmp_path_factory.mktemp("ci")
    root = scratch_repo(tmp / "repo")
    marker = tmp / "signing-key-seen-by-workflow-code"
    path = root / "workflows" / "quarter_hour_queue_drain.py"
    edit(path, 'cron("*/15 * * * *"', 'cron("0 6 * * MON#1"')  # GCP cannot: the verdict is BLOCKED
    path.write_text(LEAK.format(marker=str(marker)) + path.read_text(encoding="utf-8"), encoding="utf-8")
    git(root, "commit", "-q", "-am", "a workflow GCP cannot run")
    private, public = signing.keygen()
    out = tmp / "main"
    done = ci_run(tmp, root, tmp / "saved", out, sign=private, public="")
    assert done.returncode == 1, done.stdout + done.stderr
    return Main(root, tmp / "saved", out, private, public, marker)


def test_a_second_ci_run_of_the_same_commit_reads_every_slice_from_the_restored_cache_and_writes_the_same_reports(
        main_run: Main, tmp_path: Path) -> None:
    first = stats(main_run.out)
    assert all(s["cache_misses"] == 2 and s["cache_rejected"] == 0 for s in first.values()), first
    cache = restore(main_run.cache, tmp_path / "restored")
    files = sorted(p.name for p in cache.iterdir())
    done = ci_run(tmp_path, main_run.root, cache, tmp_path / "second", public=main_run.public, forbid_capture=True)
    assert done.returncode == 1, done.stdout + done.stderr
    second = stats(tmp_path / "second")
    slices = {s: first[s]["cache_hits"] + first[s]["cache_misses"] for s in first}  # head and base, per stack
    assert {s: (v["cache_hits"], v["cache_misses"], v["cache_rejected"]) for s, v in second.items()} == \
        {s: (slices[s], 0, 0) for s in second}
    assert reports(tmp_path / "second") == reports(main_run.out)
    assert sorted(p.name for p in cache.iterdir()) == files  # a pull request's run writes nothing to the cache


def test_the_signing_key_never_reaches_the_code_under_review(main_run: Main) -> None:
    assert main_run.marker.read_text(encoding="utf-8") == "absent"


def test_a_pull_request_rebuilds_only_what_it_changed_and_what_it_builds_is_never_trusted(
        main_run: Main, tmp_path: Path) -> None:
    root = tmp_path / "pr"
    shutil.copytree(main_run.root, root)
    git(root, "checkout", "-q", "-b", "change")
    edit(root / "workflows" / CHANGED, 'timeout="3m"', 'timeout="4m"')
    git(root, "commit", "-q", "-am", "a pull request's change")
    cache = restore(main_run.cache, tmp_path / "restored")
    before = {p.name: p.read_bytes() for p in cache.iterdir()}
    done = ci_run(tmp_path, root, cache, tmp_path / "pr-run", public=main_run.public)
    assert done.returncode == 1, done.stdout + done.stderr
    assert all((s["cache_misses"], s["cache_rejected"]) == (1, 0) for s in stats(tmp_path / "pr-run").values())
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == before


def test_entries_forged_under_mains_signature_or_the_runners_own_mac_key_are_rejected_and_the_verdict_holds(
        main_run: Main, tmp_path: Path) -> None:
    cache = restore(main_run.cache, tmp_path / "restored")
    entries = sorted(cache.glob("*.json"))
    runner_key = tmp_path / "home-forged" / ".cache" / "lockstep" / "preview-cache.key"  # code under review reads it
    runner_key.parent.mkdir(parents=True)
    runner_key.write_text("ab" * 32, encoding="ascii")
    for n, entry in enumerate(entries):
        data = json.loads(entry.read_text(encoding="utf-8"))
        body = json.loads(data["body"])
        body["diagnostics"] = []  # the forger's verdict: nothing to report
        data["body"] = json.dumps(body)
        data["sha256"] = hashlib.sha256(data["body"].encode()).hexdigest()
        if n % 2:  # MAC'd with the key on the runner itself, as a workflow file running there could
            signed = f"{cache_mod.FORMAT}\0{data['key']}\0{data['sha256']}".encode()
            data["mac"], data["sig"] = hmac.new(b"ab" * 32, signed, hashlib.sha256).hexdigest(), ""
        entry.write_text(json.dumps(data), encoding="utf-8")  # else: main's genuine signature over the old body
    done = ci_run(tmp_path, main_run.root, cache, tmp_path / "forged", public=main_run.public)
    assert done.returncode == 1, done.stdout + done.stderr  # still blocked: GCP cannot fire on the first Monday
    forged = stats(tmp_path / "forged")
    # Every forged entry is rejected, the loader's memo (one more entry, read once per stack) as well; the hits are
    # the base revision reusing what this run rebuilt for the head, in memory.
    slices = [e for e in entries if not e.name.startswith("load-memo-")]
    assert len(entries) - len(slices) == 1
    assert sum(s["cache_rejected"] for s in forged.values()) == len(slices) + len(forged)
    assert all(s["cache_hits"] + s["cache_misses"] == 4 for s in forged.values())
    for stack in ("staging", "prod"):  # the same verdict as main's, and the rejection is said out loud
        doc, main = (json.loads((out / f"{stack}.json").read_text(encoding="utf-8"))
                     for out in (tmp_path / "forged", main_run.out))
        assert doc["violations"] == main["violations"] and doc["blocked"]
        assert any("failed verification" in n for n in doc["notes"])
        assert (tmp_path / "forged" / f"{stack}.sarif").read_bytes() == (main_run.out / f"{stack}.sarif").read_bytes()


def test_a_cold_run_with_two_workers_writes_exactly_what_one_worker_writes(tmp_path: Path) -> None:
    root = scratch_repo(tmp_path / "repo")
    for name in ("nightly_ledger_export.py", "monthly_invoice_run.py", "new_york_morning_report.py"):
        shutil.copy(REPO / "workflows" / name, root / "workflows" / name)
    texts = []
    try:
        for workers in (1, 2):
            isolate.use_workers(workers)
            result = preview(root, "staging", compare=False, cache_dir=None)
            assert result.stats["cache_misses"] == 5
            doc = json.loads(report_json.render(result))
            doc.pop("stats")
            texts.append((report_sarif.render(result), report_markdown.render(result), json.dumps(doc)))
        assert len([c for c in isolate._pool if c.proc.poll() is None]) >= 2  # the second pass did use two
    finally:
        isolate.use_workers(None)
    assert texts[0] == texts[1]


@pytest.mark.parametrize("argv,why", [
    (["--format", "sarif", "--format", "markdown", "--output", "a.sarif"], "2 --format but 1 --output"),
    (["--output", "a.md", "--output", "b.md"], "--output b.md follows no --format"),
    (["--format", "sarif", "--output", "x", "--format", "markdown", "--output", "x"], "--output x is given twice"),
    (["--stack", "prod", "--format", "sarif", "--output", "a.sarif"], "with {stack} in the path"),
])
def test_reports_that_do_not_pair_up_are_a_usage_error_before_any_work(
        argv: list[str], why: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = cli.main(["preview", "--stack", "staging", "--root", str(tmp_path), *argv])
    assert code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert why in err and "Traceback" not in err


KILLER = '''
_build_one = build_one


def build_one(wf, *args, **kwargs):  # type: ignore[no-untyped-def]  # the program under review ends its process
    if wf.name == {name!r}:
        import os
        os._exit(3)
    return _build_one(wf, *args, **kwargs)
'''


def test_a_workflow_that_kills_its_worker_fails_alone_whatever_the_batching(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.loader import load_repo

    code = tmp_path / "code"
    for top in ("infra", "policies"):
        shutil.copytree(REPO / top, code / top, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    result = load_repo(REPO)
    stack = result.stack("staging")
    jobs = [isolate.Job(wf, stack, "0" * 40) for wf in result.workflows[:4]]
    program = code / "infra" / "program.py"
    program.write_text(program.read_text(encoding="utf-8") + KILLER.format(name=jobs[1].workflow.name),
                       encoding="utf-8")
    monkeypatch.setattr(isolate, "CODE_ROOT", code)
    outcomes = []
    try:
        for workers, batch in ((1, 16), (2, 1)):
            isolate._stop_workers()
            isolate._pool.clear()
            isolate.use_workers(workers)
            monkeypatch.setattr(isolate, "BATCH_MAX", batch)
            found = dict(isolate.capture_each(REPO, jobs))
            outcomes.append({i: r if isinstance(r, str) else len(r.registrations) for i, r in found.items()})
    finally:
        isolate.use_workers(None)
        isolate._stop_workers()
        isolate._pool.clear()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] == "the program's process ended (exit code 3) before it built this workflow"
    assert all(isinstance(outcomes[0][i], int) and outcomes[0][i] > 0 for i in (0, 2, 3))


@pytest.mark.parametrize("argv,env,why", [
    (["--workers", "0"], {}, "--workers 0: must be 1 or more"),
    ([], {"LOCKSTEP_WORKERS": "two"}, "LOCKSTEP_WORKERS='two': must be a whole number"),
    ([], {"LOCKSTEP_CACHE_TRUST": "everything"}, "LOCKSTEP_CACHE_TRUST='everything': not a trust mode"),
])
def test_bad_worker_counts_and_trust_settings_are_usage_errors(
        argv: list[str], env: dict[str, str], why: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    signing.from_env.cache_clear()
    try:
        code = cli.main(["preview", "--stack", "staging", "--root", str(tmp_path), "--cache-dir", str(tmp_path),
                         *argv])
    finally:
        monkeypatch.undo()
        signing.from_env.cache_clear()
    assert code == cli.EXIT_USAGE
    assert why in capsys.readouterr().err
