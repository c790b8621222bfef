"""Benchmark the offline preview: cold over N generated workflows x 4 targets, then the warm paths after changes.

Usage: .venv/bin/python bench/bench_preview.py [--workflows 1000] [--rounds 3] [--bare] [--json out.json]
       [--repo DIR --cache DIR]   (reuse a generated repo and a cache a cold run of the same code filled)
Baseline (same run, same machine, with --bare): the real program's `build()` for the same workflows under Pulumi's
own MockMonitor (no recording, no policies, no diff) — the bare cost of registering the same resources with mocks.
Warm figures: `lockstep preview --format json` as a fresh process, nothing changed and one workflow changed (a new
value each round), then `lockstep preview --watch`'s time from a file's save to its verdict, `lockstep validate`,
and the fixed costs of a fresh interpreter (start, the gate's imports, the program's provider SDK imports).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from snapshot import snapshot_and_reexec  # bench/snapshot.py, beside this script

REPO = Path(__file__).resolve().parents[1]
SOURCE = Path(os.environ.get("LOCKSTEP_BENCH_SOURCE", REPO))  # the repo whose stack files the bench copies

snapshot_and_reexec(__file__)
sys.path.insert(0, str(REPO))

from infra.gitinfo import commits  # noqa: E402
from infra.loader import load_repo  # noqa: E402
from infra.preflight.capture import LockstepMocks  # noqa: E402
from infra.preflight.run import preview  # noqa: E402
from infra.preflight.sdkfix import reset_pickler  # noqa: E402
from infra.program import build  # noqa: E402

# `lockstep` exactly as the console script runs it.
CLI = "import sys; from infra import cli; sys.argv[0] = 'lockstep'; cli.run()"
# What the program's child process pays before it builds anything, and for one workflow, in a fresh interpreter.
SDK_PROBE = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
from infra.loader import load_repo
from infra.preflight.evaluate import run_capture
from infra.program import Providers, build_one
t1 = time.perf_counter()
result = load_repo(Path(sys.argv[1]))
stack = result.stack("staging")
def one(wf):
    started = time.perf_counter()
    run_capture(lambda: [build_one(wf, stack, result.root, "0" * 40, providers=Providers(stack))] and None, "staging")
    return time.perf_counter() - started
first, second = one(result.workflows[0]), one(result.workflows[1])
print(round(t1 - t0, 3), round(first - second, 3), round(second, 3))
"""
SCHEDULE_PROBE = """
import time
t0 = time.perf_counter()
from bench.bench_schedule import generate, run_equivalence
seconds, total, diverging = run_equivalence(generate(1000))
print(round(time.perf_counter() - t0, 3), round(seconds, 3), total, diverging)
"""
TEMPLATE = '''from infra.dsl import cron, workflow

workflow(
    name="bench-{i:04d}",
    schema=1,
    description="Generated benchmark workflow {i}.",
    owner="bench@example.com",
    schedule=cron("{minute} {hour} * * *", tz="UTC"),
    function={{"source": "functions/bench", "entry": "main.handler", "runtime": "python3.12", "memory_mb": 256}},
    retry={{"attempts": 2, "backoff": "fixed", "delay": "1m", "max_delay": "1m", "max_event_age": "1h"}},
    timeout="5m",
    notify=["mailto:bench-oncall@example.com"],
    targets={{"aws": {{}}, "azure": {{}}, "gcp": {{}}, "onprem": {{"host": "batch-01"}}}},
)
'''


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=bench", "-c", "user.email=b@example.com", *args],
                   check=True, capture_output=True)


def generate(root: Path, count: int) -> None:
    """Write `count` workflows sharing one function, with distinct schedules, and commit them on main."""
    (root / "workflows" / "functions" / "bench").mkdir(parents=True)
    (root / "workflows" / "functions" / "bench" / "main.py").write_text("def handler(event, context):\n    return 0\n")
    for i in range(count):
        text = TEMPLATE.format(i=i, minute=i % 60, hour=(i // 60) % 24)
        (root / "workflows" / f"bench_{i:04d}.py").write_text(text)
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(SOURCE / name, root / name)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "bench")


def guard_dynamic_serialization() -> None:
    """Restore pickle after each dynamic provider serialization (see infra/preflight/sdkfix.py).

    Without it the bare baseline itself fails at ~950 on-prem workflows (RecursionError in pulumi.dynamic).
    """
    import pulumi.dynamic.dynamic as dyn

    original = dyn.serialize_provider

    def serialize(provider: object) -> str:
        try:
            return str(original(provider))
        finally:
            reset_pickler()
    dyn.serialize_provider = serialize  # type: ignore[assignment]


def bare(root: Path) -> float:
    """Time the real program under the SDK's plain MockMonitor (what `pulumi` mocks cost with nothing else)."""
    result = load_repo(root).require_valid()
    stack = result.stack("staging")
    commit_of = commits(root, result.workflows)
    started = time.perf_counter()
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(LockstepMocks(), project="lockstep", stack="staging", preview=True)
    _sync_await(run_pulumi_func(lambda: build(result, stack, commit_of=commit_of) and None))
    return time.perf_counter() - started


def phase(name: str, root: Path, cache: Path) -> float:
    """Run one measured phase in a fresh interpreter (no heap left over from another phase); return its seconds."""
    done = subprocess.run([sys.executable, __file__, "--phase", name, "--root", str(root), "--cache", str(cache)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def run_phase(name: str, root: Path, cache: Path) -> None:
    """Print the seconds one phase takes, imports excluded."""
    guard_dynamic_serialization()
    if name == "bare":
        print(round(bare(root), 2))
        return
    started = time.perf_counter()
    result = preview(root, "staging", cache_dir=cache)
    print(f"{result.stats['resources']} resources, blocked={result.blocked}", file=sys.stderr)
    print(round(time.perf_counter() - started, 2))


def cli(*argv: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run the console entry as a fresh process; return its wall seconds and what it printed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, *argv], capture_output=True, text=True)
    return round(time.perf_counter() - started, 3), done


def warm_preview(root: Path, cache: Path, timeout: str | None) -> dict[str, object]:
    """Change bench_0007's timeout (None: change nothing), then time one `lockstep preview --format json`."""
    if timeout:
        changed = root / "workflows" / "bench_0007.py"
        changed.write_text(re.sub(r'timeout="\w+"', f'timeout="{timeout}"', changed.read_text()))
    wall, done = cli("preview", "--stack", "staging", "--root", str(root), "--cache-dir", str(cache), "--format",
                     "json", "--progress", "never")
    out = json.loads(done.stdout)
    return {"wall_s": wall, "inside_preview_s": out["stats"]["seconds"], "hits": out["stats"]["cache_hits"],
            "misses": out["stats"]["cache_misses"], "blocked": out["blocked"],
            "changes": {t: {k: v for k, v in row.items() if v and k != "same"} for t, row in out["summary"].items()}}


def watch_rounds(root: Path, cache: Path, timeouts: list[str]) -> list[float]:
    """Start `lockstep preview --watch`; per round, save a change and time until its verdict line is printed."""
    proc = subprocess.Popen([sys.executable, "-c", CLI, "preview", "--watch", "--stack", "staging", "--root",
                             str(root), "--cache-dir", str(cache)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith("watching "):
                break
        seconds = []
        changed = root / "workflows" / "bench_0007.py"
        for timeout in timeouts:
            started = time.perf_counter()
            changed.write_text(re.sub(r'timeout="\w+"', f'timeout="{timeout}"', changed.read_text()))
            for line in proc.stdout:
                if line.startswith(("staging: PASS", "staging: BLOCKED")):
                    seconds.append(round(time.perf_counter() - started, 3))
                    break
        return seconds
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def fixed_costs(root: Path) -> dict[str, object]:
    """Time what every fresh process pays: interpreter start, the gate's imports, the program's SDK imports."""
    def wall(*argv: str) -> tuple[float, str]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True)
        return round(time.perf_counter() - started, 3), done.stdout.strip()
    start, _ = wall("-c", "pass")
    gate, _ = wall("-c", "import infra.cli, infra.preflight.run, infra.preflight.report_json")
    _, probe = wall("-c", SDK_PROBE, str(root))
    imports, first_extra, build = (float(x) for x in probe.split())
    return {"interpreter_start_s": start, "gate_imports_s": round(gate - start, 3),
            "program_imports_s": imports, "sdk_classes_on_first_build_s": first_extra,
            "one_workflow_build_s": build}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare", action="store_true", help="also time the bare mock registration (long)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--phase", choices=("bare", "cold"), default=None)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--repo", type=Path, default=None, help="reuse this generated repo (with --cache)")
    args = parser.parse_args()
    if args.phase:
        run_phase(args.phase, args.root, args.cache)
        return
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-"))
    root, cache = (args.repo, args.cache) if args.repo else (work / "repo", work / "cache")
    if not args.repo:
        generate(root, args.workflows)
    figures: dict[str, object] = {"workflows": args.workflows, "code": str(REPO),
                                  "machine": f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}",
                                  "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                  "load_average_at_start": os.getloadavg()}
    if args.bare:
        figures["bare_mock_registration_s"] = phase("bare", root, cache)
    if not args.repo:
        figures["cold_preview_s"] = phase("cold", root, cache)
        if args.bare:
            figures["cold_over_bare"] = round(float(figures["cold_preview_s"])
                                              / float(figures["bare_mock_registration_s"]), 3)
    figures["warm_nothing_changed"] = warm_preview(root, cache, None)
    figures["warm_one_changed"] = [warm_preview(root, cache, f"{6 + i}m") for i in range(args.rounds)]
    figures["watch_per_change_s"] = watch_rounds(root, cache, [f"{20 + i}m" for i in range(args.rounds)])
    figures["validate_s"] = [cli("validate", "--root", str(root))[0] for _ in range(args.rounds)]
    probe = subprocess.run([sys.executable, "-c", SCHEDULE_PROBE], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[1]).stdout.split()
    figures["schedule_fresh_process"] = {"wall_s": float(probe[0]), "equivalence_s": float(probe[1]),
                                         "verdicts": int(probe[2]), "divergent": int(probe[3])}
    figures["fixed_costs"] = fixed_costs(root)
    figures["load_average_at_end"] = os.getloadavg()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if not args.repo:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
