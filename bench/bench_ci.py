"""Benchmark the gate as CI runs it: a cold run on a pool of workers, and a pull request's run with main's cache.

Usage: .venv/bin/python bench/bench_ci.py [--workflows 1000] [--rounds 3] [--json out.json]

In one run, on a generated repo of N workflows x 4 targets committed on `main`, each phase a fresh process:
1. bare: the real program's `build()` for the staging stack in one process under the SDK's plain MockMonitor;
2. cold, pool: `lockstep preview --stack staging --no-base` with an empty cache and the default workers (the CPUs
   this process may use), as main's CI job runs it (signing every entry); peak RSS of the gate and of each worker;
3. cold, one worker: the same with `--workers 1` (and a throwaway cache), for the pool's own speed-up;
then one workflow is changed on a branch (a pull request) and, alternately for `--rounds` rounds:
4. single warm preview: `lockstep preview --stack staging --format json` from a copy of main's cache;
5. CI-shaped pull request run: `lockstep preview --stack staging --stack prod --base main --format sarif --output
   out/{stack}.sarif --format markdown --output out/comment.md`, cache copied as actions/cache restores it, trusting
   only main's signatures (`LOCKSTEP_CACHE_TRUST=signed`), as preview.yml runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snapshot import snapshot_and_reexec  # bench/snapshot.py, beside this script

REPO = Path(__file__).resolve().parents[1]
SOURCE = Path(os.environ.get("LOCKSTEP_BENCH_SOURCE", REPO))  # the repo whose stack files the bench copies

snapshot_and_reexec(__file__)
sys.path.insert(0, str(REPO))

CLI = "import sys; from infra import cli; sys.exit(cli.main(sys.argv[1:]))"
from bench.bench_preview import generate, git  # noqa: E402  (the same generated repo as the preview bench)


def bare(root: Path) -> None:
    """Print the seconds the real program takes under the SDK's plain MockMonitor, in this one process."""
    import pulumi
    import pulumi.dynamic.dynamic as dyn
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from infra.gitinfo import commits
    from infra.loader import load_repo
    from infra.preflight.capture import LockstepMocks
    from infra.preflight.sdkfix import reset_pickler
    from infra.program import build

    original = dyn.serialize_provider

    def serialize(provider: object) -> str:  # the SDK's pickle leak (infra/preflight/sdkfix.py), as the gate does
        try:
            return str(original(provider))
        finally:
            reset_pickler()
    dyn.serialize_provider = serialize  # type: ignore[assignment]
    result = load_repo(root).require_valid()
    stack = result.stack("staging")
    commit_of = commits(root, result.workflows)
    started = time.perf_counter()
    settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(LockstepMocks(), project="lockstep", stack="staging", preview=True)
    _sync_await(run_pulumi_func(lambda: build(result, stack, commit_of=commit_of) and None))
    seconds = time.perf_counter() - started
    print(json.dumps({"s": round(seconds, 2), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


def cold(root: Path, cache: Path, workers: int) -> None:
    """Print the seconds of a cold preview in this process, its peak RSS and its largest worker's."""
    from infra.preflight import isolate
    from infra.preflight.run import preview

    isolate.use_workers(workers)
    started = time.perf_counter()
    result = preview(root, "staging", compare=False, cache_dir=cache)
    seconds = time.perf_counter() - started
    isolate._stop_workers()  # reaped, so RUSAGE_CHILDREN holds the largest worker's peak
    print(json.dumps({"s": round(seconds, 2), "misses": result.stats["cache_misses"],
                      "gate_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}))


def phase(name: str, root: Path, cache: Path, env: dict[str, str], workers: int = 0) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--phase", name, "--root", str(root), "--cache", str(cache),
                           "--workers", str(workers)], capture_output=True, text=True, check=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def wall(argv: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    """Run the CLI in a fresh interpreter; return its wall seconds and its JSON stats (if it wrote JSON)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, *argv], capture_output=True, text=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(done.stderr)
    return seconds, (json.loads(done.stdout)["stats"] if done.stdout.startswith("{") else {})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--phase", choices=("bare", "cold"), default=None)
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    if args.phase == "bare":
        return bare(args.root)
    if args.phase == "cold":
        return cold(args.root, args.cache, args.workers or len(os.sched_getaffinity(0)))
    from infra.preflight import signing

    work = Path(tempfile.mkdtemp(prefix="lockstep-bench-ci-"))
    root, saved = work / "repo", work / "main-cache"
    generate(root, args.workflows)
    private, public = signing.keygen()
    base_env = {**os.environ, "LOCKSTEP_BUILD_DIR": str(work / "bundles"), "LOCKSTEP_CACHE_PUBLIC_KEY": public,
                "LOCKSTEP_CACHE_KEY_FILE": str(work / "machine.key")}
    base_env.pop("LOCKSTEP_NO_CACHE", None)
    main_env = {**base_env, "LOCKSTEP_CACHE_TRUST": "signed", "LOCKSTEP_CACHE_SIGNING_KEY": private}
    load = os.getloadavg()
    figures: dict[str, object] = {
        "workflows": args.workflows, "cpus": len(os.sched_getaffinity(0)), "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "loadavg_at_start": [round(x, 1) for x in load]}
    figures["bare"] = phase("bare", root, work / "unused", base_env)
    figures["cold_pool"] = phase("cold", root, saved, main_env)  # as main's job: signed entries, saved after
    figures["cold_one_worker"] = phase("cold", root, work / "throwaway", base_env, workers=1)
    bare_s = float(figures["bare"]["s"])  # type: ignore[index]
    figures["cold_pool_over_bare"] = round(float(figures["cold_pool"]["s"]) / bare_s, 3)  # type: ignore[index]
    figures["cold_one_worker_over_bare"] = round(float(figures["cold_one_worker"]["s"]) / bare_s, 3)  # type: ignore[index]
    wall(["preview", "--stack", "prod", "--no-base", "--root", str(root), "--cache-dir", str(saved),
          "--format", "json"], main_env)  # main's job also fills prod (not timed)
    git(root, "checkout", "-q", "-b", "pr")
    changed = root / "workflows" / "bench_0007.py"
    changed.write_text(changed.read_text().replace('timeout="5m"', 'timeout="6m"'))
    git(root, "commit", "-q", "-am", "a pull request's change")
    single, ci = [], []
    for i in range(args.rounds):  # paired, alternating: the machine's load changes over minutes
        one = shutil.copytree(saved, work / f"single-{i}")
        single.append(wall(["preview", "--stack", "staging", "--root", str(root), "--cache-dir", str(one),
                            "--format", "json", "--output", str(work / f"single-{i}.json")], base_env)[0])
        restored = shutil.copytree(saved, work / f"restored-{i}")
        out = work / f"out-{i}"
        ci.append(wall(["preview", "--stack", "staging", "--stack", "prod", "--base", "main", "--root", str(root),
                        "--cache-dir", str(restored), "--format", "sarif", "--output", str(out / "{stack}.sarif"),
                        "--format", "markdown", "--output", str(out / "comment.md"), "--format", "json",
                        "--output", str(out / "{stack}.json")], {**base_env, "LOCKSTEP_CACHE_TRUST": "signed"})[0])
    ci_stats = {s: json.loads((work / f"out-{args.rounds - 1}" / f"{s}.json").read_text())["stats"]
                for s in ("staging", "prod")}
    figures["single_warm_preview_wall_s"] = [round(s, 2) for s in single]
    figures["ci_pr_run_wall_s"] = [round(s, 2) for s in ci]
    figures["ci_pr_run_cache"] = {s: {k: v[k] for k in ("cache_hits", "cache_misses", "cache_rejected")}
                                  for s, v in ci_stats.items()}
    figures["ci_over_single_median"] = round(statistics.median(ci) / statistics.median(single), 2)
    figures["loadavg_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
