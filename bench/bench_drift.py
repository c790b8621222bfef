"""Benchmark: `lockstep drift` over N workflows on AWS, GCP and Azure emulators: wall time and API calls per resource.

    .venv/bin/python bench/bench_drift.py [--workflows 1000] [--reads auto,point] [--workers 8] [--profile out.prof]
                                          [--json out.json]

Writes N generated workflows (all on aws, azure, gcp) into a scratch repo with the real Pulumi.staging.yaml, fills
moto's server (a subprocess), drongo (in-process) and the fake ARM (a subprocess) through the vendor SDKs with what
the program registers (captured once for the first workflow, then renamed per workflow, since the workflows differ
only by name), and then times the real `lockstep drift --stack staging` entry, in-process, end to end. On-prem is
not part of it: it needs SSH hosts (see docs/benchmarks.md). `--reads` times the same seeded emulators once per
read mode (`auto` lists per resource type at this scale; `point` reads each resource, as drift did before lists),
one after the other in the same process, so their ratio is measured under the same machine load. `--profile`
writes a cProfile of the first mode's run. `--workers 8,16` times each mode with each number of concurrent reads
per target ($LOCKSTEP_DRIFT_WORKERS).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.cli import main  # noqa: E402
from infra.loader import load_repo  # noqa: E402
from tests.drift import seed  # noqa: E402
from tests.drift.conftest import _free_port, _wait_ready  # noqa: E402
from tests.drift.fakearm import SUBSCRIPTION  # noqa: E402

WORKFLOW = '''from infra.dsl import cron, workflow

workflow(
    name="bench-{i:04d}",
    schema=1,
    description="Generated drift benchmark workflow.",
    owner="bench@example.com",
    schedule=cron("15 9 * * MON-FRI", tz="Europe/Berlin"),
    function={{"source": "functions/job_{i:04d}", "entry": "main.handler", "runtime": "python3.12", "memory_mb": 256,
               "env": {{"MODE": "bench"}}}},
    retry={{"attempts": 2, "backoff": "fixed", "delay": "1m", "max_delay": "1m", "max_event_age": "1h"}},
    timeout="5m",
    notify=["mailto:bench-oncall@example.com"],
    targets={{"aws": {{}}, "azure": {{}}, "gcp": {{}}}},
)
'''
FAKE_ARM = ("import sys, time; sys.path.insert(0, sys.argv[2]); from tests.drift import fakearm as f; "
            "import http.server as h; a = f.FakeArm(); a.start(); print(a.url, flush=True); time.sleep(86400)")


def make_repo(base: Path, count: int) -> Path:
    """Write a scratch repo with `count` generated workflows and the real staging stack."""
    root = base / "repo"
    for i in range(count):  # one function each: the same schedule and code twice would be refused as an overlap
        fn = root / "workflows" / "functions" / f"job_{i:04d}"
        fn.mkdir(parents=True)
        (fn / "main.py").write_text(f"def handler(event=None, context=None):\n    return {{'job': {i}}}\n")
        (root / "workflows" / f"bench_{i:04d}.py").write_text(WORKFLOW.format(i=i))
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml"):
        shutil.copy(ROOT / name, root / name)
    return root


def templates(root: Path) -> tuple[Any, dict[str, dict[str, list[dict[str, Any]]]]]:
    """Return the loaded repo and what the program registers for bench-0000 on each cloud."""
    repo = load_repo(root).require_valid()
    stack = repo.stack("staging")
    first = next(w for w in repo.workflows if w.name == "bench-0000")
    return repo, {t: seed.registered(root, stack, first, t) for t in ("aws", "gcp", "azure")}


def renamed(regs: dict[str, list[dict[str, Any]]], old: Any, new: Any) -> Any:
    """Return registrations of another workflow: its name, spec digest and code digest in place of the template's."""
    text = json.dumps(regs, default=lambda _o: None)  # assets and archives: the seeders build packages themselves
    for a, b in ((old.name, new.name), (old.digest, new.digest), (old.code_digest, new.code_digest),
                 (old.function.source, new.function.source)):
        text = text.replace(a, b)
    return json.loads(text)


def fill(root: Path, repo: Any, regs: dict[str, dict[str, list[dict[str, Any]]]], moto: str,
         arm: dict[str, Any]) -> float:
    """Seed every workflow on the three emulators; return the seconds it took."""
    import boto3

    started = time.perf_counter()
    first = next(w for w in repo.workflows if w.name == "bench-0000")

    def aws(svc: str) -> Any:
        return boto3.client(svc, endpoint_url=moto, region_name="eu-central-1")

    for wf in repo.workflows:
        mine = {t: renamed(r, first, wf) for t, r in regs.items()}
        seed.seed_aws(aws, root, wf, mine["aws"])
        seed.seed_gcp({}, mine["gcp"])
        seed.seed_azure(arm, mine["azure"])
    return time.perf_counter() - started


def run(count: int, modes: list[str], workers: list[int], profile: Path | None = None) -> dict[str, Any]:
    """Seed the emulators once, time drift in each read mode, and return the figures."""
    import drongo

    from infra.targets.azure.live import connect_from_env

    load_before = os.getloadavg()
    base = Path(tempfile.mkdtemp(prefix="lockstep-bench-drift-"))
    port = _free_port()
    moto_proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1",
                                  "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    arm_proc = subprocess.Popen([sys.executable, "-c", FAKE_ARM, "x", str(ROOT)], stdout=subprocess.PIPE, text=True)
    try:
        moto = f"http://127.0.0.1:{port}"
        _wait_ready(moto_proc, moto + "/moto-api/data.json")
        assert arm_proc.stdout is not None
        arm_url = arm_proc.stdout.readline().strip()
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                           "LOCKSTEP_AWS_ENDPOINT_URL": moto, "LOCKSTEP_AZURE_ENDPOINT_URL": arm_url,
                           "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION, "LOCKSTEP_DRIFT_DIR": str(base / "incidents")})
        root = make_repo(base, count)
        repo, regs = templates(root)
        with drongo.mock_gcp():
            import drongo.core.decorator

            drongo.core.decorator._CONTROLLER._responses.add_passthru(arm_url)
            seeded = fill(root, repo, regs, moto, {**connect_from_env(os.environ), "subscription_id": SUBSCRIPTION})
            print(f"seeded {count} workflows in {seeded:.1f} s; timing {', '.join(modes)}", file=sys.stderr,
                  flush=True)
            runs = {f"{mode}/{n}": timed(root, mode, n, profile if number == 0 else None)
                    for number, (mode, n) in enumerate((m, n) for n in workers for m in modes)}
    finally:
        for proc in (moto_proc, arm_proc):
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)
    first = next(iter(runs.values()))["drift_wall_s"]
    for figures in runs.values():
        figures["ratio_to_first"] = round(figures["drift_wall_s"] / first, 2)
    return {"workflows": count, "targets": ["aws", "azure", "gcp"], "seed_s": round(seeded, 1), "runs": runs,
            "machine": {"nproc": os.cpu_count(), "python": platform.python_version(),
                        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                        "load_before": load_before, "load_after": os.getloadavg()}}


def timed(root: Path, mode: str, workers: int, profile: Path | None) -> dict[str, Any]:
    """Time one `lockstep drift --stack staging` in a read mode with `workers` concurrent reads per target; return
    its verdict, wall time and call counts."""
    os.environ.update({"LOCKSTEP_DRIFT_READS": mode, "LOCKSTEP_DRIFT_WORKERS": str(workers)})
    out = io.StringIO()
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        if profiler:
            profiler.enable()
        code = main(["drift", "--stack", "staging", "--root", str(root), "--format", "json", "--no-record"])
        if profiler:
            profiler.disable()
    wall = time.perf_counter() - started
    if profiler and profile:
        profiler.dump_stats(str(profile))
    report = json.loads(out.getvalue())
    cost = report["cost"]
    calls, resources = sum(cost["calls"].values()), sum(cost["resources"].values())
    return {"exit_code": code, "verdict": report["verdict"], "findings": len(report["findings"]),
            "drift_wall_s": round(wall, 2), "read_s": {k: round(v, 2) for k, v in cost["read_seconds"].items()},
            "calls": cost["calls"], "resources": cost["resources"], "calls_per_resource": round(calls / resources, 3),
            "load": os.getloadavg()}


def main_() -> None:
    """Parse arguments, run, print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--reads", default="auto,point", help="read modes to time, in order (auto, list, point)")
    parser.add_argument("--workers", default="8", help="concurrent reads per target to time each mode with")
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of the first mode's run here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = run(args.workflows, [m for m in args.reads.split(",") if m],
                  [int(n) for n in args.workers.split(",") if n], args.profile)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main_()
