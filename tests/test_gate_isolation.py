"""A pull request cannot switch the gate off: not from a workflow file, not from a file planted in the cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from infra import isolated
from infra.dsl import Declaration
from infra.loader import load_repo
from infra.model import SecretRef
from infra.preflight.run import preview
from tests.preview_support import edit, scratch_repo

REPO = Path(__file__).resolve().parents[1]
CLI = "import sys; sys.path.insert(0, sys.argv.pop(1)); from infra.cli import main; sys.exit(main())"
HOSTILE = '''
import pathlib
import infra.preflight.run as _run
import infra.preflight.analyze as _analyze
import infra.preflight.report_json as _report
_analyze.analyze_resources = lambda *args, **kwargs: []
_analyze.analyze_stack = lambda *args, **kwargs: []
_run.Preview.blocked = property(lambda self: False)
_report.render = lambda result: '{{"violations": []}}'
pathlib.Path({marker!r}).write_text("patched")
'''


def _blocking_repo(tmp_path: Path) -> Path:
    """Return a scratch repo whose queue-drain fires on the first Monday: GCP cannot, so the gate must block."""
    root = scratch_repo(tmp_path / "repo")
    edit(root / "workflows" / "quarter_hour_queue_drain.py", 'cron("*/15 * * * *"', 'cron("0 6 * * MON#1"')
    return root


def _gcp_blocks(violations: list[dict[str, object]]) -> bool:
    return any(v["target"] == "gcp" and v["rule"] == "schedule-equivalence" and v["blocking"] for v in violations)


def test_a_workflow_file_or_the_program_that_patches_the_pack_and_the_report_does_not_change_the_verdict(
        tmp_path: Path) -> None:
    root = _blocking_repo(tmp_path)
    code = tmp_path / "code"  # the code under review: this repo's infra/ and policies/, with a hostile program
    for top in ("infra", "policies"):
        shutil.copytree(REPO / top, code / top, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    markers = {"workflow": tmp_path / "patched-by-workflow", "program": tmp_path / "patched-by-program"}
    path = root / "workflows" / "quarter_hour_queue_drain.py"
    touch = f"open({str(code / 'policies' / 'pack.py')!r}, 'a').write('# reviewed, honest')\n"
    path.write_text(HOSTILE.format(marker=str(markers["workflow"])) + touch + path.read_text(encoding="utf-8"),
                    encoding="utf-8")
    program = code / "infra" / "program.py"
    program.write_text(program.read_text(encoding="utf-8") + HOSTILE.format(marker=str(markers["program"])),
                       encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", CLI, str(code), "preview", "--stack", "staging", "--no-base",
                           "--format", "json", "--root", str(root)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "LOCKSTEP_NO_CACHE": "1"})
    assert {k: m.read_text() for k, m in markers.items()} == {"workflow": "patched", "program": "patched"}
    assert done.returncode == 1, done.stdout + done.stderr
    violations = json.loads(done.stdout)["violations"]
    assert _gcp_blocks(violations)
    assert any(v["rule"] == "gate-integrity" and v["blocking"] for v in violations)  # the edit to the pack is seen


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.write_text, (self.marker, "unpickled"))


def test_planted_and_forged_cache_entries_are_never_run_and_never_trusted(tmp_path: Path) -> None:
    root = _blocking_repo(tmp_path)
    cache = root / ".lockstep" / "cache"  # the CLI's default: a directory a pull request can commit files to
    assert preview(root, "staging", compare=False, cache_dir=cache).blocked
    entries = sorted(cache.glob("*.json"))
    assert entries, "the first run fills the cache"
    marker = tmp_path / "unpickled"
    for entry in entries:
        (entry.with_suffix(".pickle")).write_bytes(pickle.dumps(_Payload(marker)))  # what the old cache read
        data = json.loads(entry.read_text(encoding="utf-8"))
        body = json.loads(data["body"])
        body["diagnostics"] = []  # the forger's verdict: nothing to report
        data["body"] = json.dumps(body)
        data["sha256"] = hashlib.sha256(data["body"].encode()).hexdigest()  # a digest anyone can compute
        data["mac"] = hashlib.sha256(b"the forger's own key" + data["sha256"].encode()).hexdigest()
        entry.write_text(json.dumps(data), encoding="utf-8")
    again = preview(root, "staging", compare=False, cache_dir=cache)
    assert not marker.exists()
    assert again.blocked and any(v.target == "gcp" and v.rule == "schedule-equivalence" for v in again.violations)
    assert again.stats["cache_rejected"] == len(entries) and again.stats["cache_hits"] == 0
    assert any("failed verification" in n for n in again.notes)
    third = preview(root, "staging", compare=False, cache_dir=cache)  # entries this machine wrote are trusted
    slices = [e for e in entries if not e.name.startswith("load-memo-")]  # the other one is the loader's memo
    assert len(slices) == len(entries) - 1
    assert third.blocked and third.stats["cache_hits"] == len(slices) and third.stats["cache_rejected"] == 0


def test_a_workflow_file_that_kills_its_process_is_an_error_on_that_file(repo_copy: Path) -> None:
    bad = repo_copy / "workflows" / "a_exits.py"  # loaded first: every file after it still loads
    bad.write_text("import os\nprint('noise on stdout')\nos._exit(0)\n", encoding="utf-8")
    result = load_repo(repo_copy)
    assert [(e.path, e.field) for e in result.errors] == [("workflows/a_exits.py", "(module)")]
    assert "before it finished" in result.errors[0].why or "before it finished" in str(result.errors[0].value)
    assert len(result.workflows) == 6  # every other file still loads


def test_declared_values_cross_the_process_boundary_unchanged() -> None:
    when = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    decl = Declaration("workflow", {"name": "x", "n": 3, "f": 1.5, "ok": True, "none": None, "t": (1, "a"),
                                    "l": [SecretRef("db")], "d": {"k": {"nested": [when]}},
                                    "s": Declaration("cron", {"expression": "0 1 * * *"}, "p.py", 4),
                                    "age": dt.timedelta(minutes=5), "odd": {1, 2}}, "w.py", 7)
    back = isolated.decode(json.loads(json.dumps(isolated.encode(decl))))
    assert isinstance(back, Declaration) and back.path == "w.py" and back.line == 7
    odd = back.args.pop("odd")
    assert isinstance(odd, isolated.Opaque) and repr(odd) == "{1, 2}"  # refused by type, shown as written
    assert back.args == {k: v for k, v in decl.args.items() if k != "odd"}


def test_parsing_the_command_line_loads_no_program_or_component_code() -> None:
    """Every command is registered at start-up; none may import the program a pull request changes."""
    probe = ("import sys; import infra.cli; infra.cli.build_parser(); "
             "print(sorted(m for m in sys.modules if m == 'infra.program' or m.endswith('.component')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


RUNNER = '''
import os, subprocess
open({seen!r}, "w").write(" ".join(sorted(k for k in os.environ if k.startswith(("GITHUB_", "RUNNER_")))))
for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT"):
    if os.environ.get(name):
        open(os.environ[name], "a").write("BASH_ENV=/tmp/evil.sh\\n")
open({pid!r}, "w").write(str(subprocess.Popen(["sleep", "300"]).pid))
'''


def test_code_under_review_cannot_write_the_ci_runners_file_commands_or_outlive_the_gate(tmp_path: Path) -> None:
    root = _blocking_repo(tmp_path)
    seen, pid, ghenv = tmp_path / "seen", tmp_path / "orphan.pid", tmp_path / "github_env"
    path = root / "workflows" / "quarter_hour_queue_drain.py"
    path.write_text(RUNNER.format(seen=str(seen), pid=str(pid)) + path.read_text(encoding="utf-8"), encoding="utf-8")
    ghenv.write_text("", encoding="utf-8")
    runner = {"GITHUB_ENV": str(ghenv), "GITHUB_PATH": str(ghenv), "GITHUB_OUTPUT": str(ghenv),
              "GITHUB_TOKEN": "ghs_" + "x" * 36, "RUNNER_TEMP": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", CLI, str(REPO), "preview", "--stack", "staging", "--no-base",
                           "--format", "json", "--root", str(root)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path, env={**os.environ, "LOCKSTEP_NO_CACHE": "1", **runner})
    assert done.returncode == 1 and _gcp_blocks(json.loads(done.stdout)["violations"]), done.stderr
    assert seen.read_text(encoding="utf-8") == ""  # the workflow file ran, and saw none of the runner's variables
    assert ghenv.read_text(encoding="utf-8") == ""
    orphan = int(pid.read_text(encoding="utf-8"))
    assert not Path(f"/proc/{orphan}").exists() or "zombie" in Path(f"/proc/{orphan}/status").read_text().lower()
