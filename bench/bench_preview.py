"""Benchmark the offline preview: cold over N generated workflows x 4 targets, then warm after one change.

Usage: .venv/bin/python bench/bench_preview.py [--workflows 1000] [--json out.json]
Baseline (same run, same machine): the real program's `build()` for the same workflows under Pulumi's own
MockMonitor (no recording, no policies, no diff) — the bare cost of registering the same resources with mocks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT_ENV = "LOCKSTEP_BENCH_SNAPSHOT"
SOURCE = Path(os.environ.get("LOCKSTEP_BENCH_SOURCE", REPO))  # the repo whose stack files the bench copies


def snapshot_and_reexec() -> None:
    """Re-run this script from a copy of infra/, policies/ and bench/, so edits made meanwhile cannot skew it."""
    if os.environ.get(SNAPSHOT_ENV):
        return
    code = Path(tempfile.mkdtemp(prefix="lockstep-bench-code-"))
    for top in ("infra", "policies", "bench"):
        shutil.copytree(REPO / top, code / top, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    env = {**os.environ, SNAPSHOT_ENV: "1", "PYTHONPATH": str(code), "LOCKSTEP_BENCH_SOURCE": str(REPO)}
    os.execve(sys.executable, [sys.executable, str(code / "bench" / "bench_preview.py"), *sys.argv[1:]], env)


snapshot_and_reexec()
sys.path.insert(0, str(REPO))

from infra.gitinfo import commits  # noqa: E402
from infra.loader import load_repo  # noqa: E402
from infra.preflight.capture import LockstepMocks  # noqa: E402
from infra.preflight.run import preview  # noqa: E402
from infra.preflight.sdkfix import reset_pickler  # noqa: E402
from infra.program import build  # noqa: E402

# `lockstep preview` exactly as the console script runs it.
CLI = "import sys; from infra import cli; sys.exit(cli.main(sys.argv[1:]))"
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--phase", choices=("bare", "cold"), default=None)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    if args.phase:
        run_phase(args.phase, args.root, args.cache)
        return
    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-"))
    root, cache = work / "repo", work / "cache"
    generate(root, args.workflows)
    figures: dict[str, object] = {"workflows": args.workflows, "code": str(REPO),
                                  "machine": f"{os.cpu_count()} cores, {sys.platform}, Python {sys.version.split()[0]}",
                                  "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    figures["bare_mock_registration_s"] = phase("bare", root, cache)
    figures["cold_preview_s"] = phase("cold", root, cache)
    figures["cold_over_bare"] = round(float(figures["cold_preview_s"]) / float(figures["bare_mock_registration_s"]), 3)
    changed = root / "workflows" / "bench_0007.py"
    changed.write_text(changed.read_text().replace('timeout="5m"', 'timeout="6m"'))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, "preview", "--stack", "staging", "--root", str(root),
                           "--cache-dir", str(cache), "--format", "json"], capture_output=True, text=True)
    figures["warm_one_changed_wall_s"] = round(time.perf_counter() - started, 2)
    warm = json.loads(done.stdout)
    figures["resources"] = len([r for r in warm["resources"] if r["custom"]])
    figures["warm_internal_s"] = warm["stats"]["seconds"]
    figures["warm_cache"] = {"hits": warm["stats"]["cache_hits"], "misses": warm["stats"]["cache_misses"]}
    figures["warm_changes"] = {t: {k: v for k, v in row.items() if v and k != "same"}
                               for t, row in warm["summary"].items()}
    figures["warm_blocked"] = warm["blocked"]
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
