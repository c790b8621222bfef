"""Benchmark: build the prod stack for N generated workflows under Pulumi mocks, against a bare loop.

    .venv/bin/python bench/bench_program.py [--workflows 1000] [--json]

Generates N distinct workflows (all four targets, distinct schedules, one shared function) in a scratch repo with
the real Pulumi.prod.yaml, runs the real program (infra.program.build) under the capture harness, then registers
the same number of plain resources (aws.sqs.Queue with tags) in a bare loop under the same harness, in the same
process. Reports wall time per registered resource for both and their ratio. Nothing reaches a cloud.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pulumi_aws as aws  # noqa: E402

from infra import program  # noqa: E402
from infra.loader import load_repo  # noqa: E402
from infra.preflight.capture import capture  # noqa: E402

WORKFLOW = '''from infra.dsl import cron, workflow

workflow(
    name="bench-{i:04d}",
    schema=1,
    description="Generated benchmark workflow {i}.",
    owner="bench@example.com",
    schedule=cron("{minute} {hour} * * *", tz="UTC"),
    function={{"source": "functions/job", "entry": "main.handler", "runtime": "python3.12", "memory_mb": 256,
               "env": {{"INDEX": "{i}"}}}},
    retry={{"attempts": 2, "backoff": "fixed", "delay": "1m", "max_delay": "1m", "max_event_age": "1h"}},
    timeout="5m",
    notify=["mailto:bench-oncall@example.com"],
    targets={{"aws": {{}}, "azure": {{}}, "gcp": {{}}, "onprem": {{"host": "batch-01"}}}},
)
'''


def make_repo(base: Path, count: int) -> Path:
    """Write a scratch repo with `count` generated workflows and the real prod stack."""
    root = base / "repo"
    (root / "workflows" / "functions" / "job").mkdir(parents=True)
    (root / "workflows" / "functions" / "job" / "main.py").write_text(
        "def handler(event=None, context=None):\n    return {'ok': True}\n")
    for i in range(count):
        minute, hour = i % 60, (i // 60) % 24
        (root / "workflows" / f"bench_{i:04d}.py").write_text(WORKFLOW.format(i=i, minute=minute, hour=hour))
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, root / name)
    return root


def run(count: int) -> dict[str, object]:
    """Run the benchmark and return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = make_repo(Path(tmp), count)
        os.environ["LOCKSTEP_BUILD_DIR"] = str(Path(tmp) / "bundles")  # removed with the scratch repo
        t0 = time.perf_counter()
        result = load_repo(root).require_valid()
        load_s = time.perf_counter() - t0
        stack = result.stack("prod")
        t0 = time.perf_counter()
        cap = capture(lambda: program.build(result, stack, commit_of=lambda _wf: "0" * 40), stack="prod")
        program_s = time.perf_counter() - t0
    total = len(cap.registrations)
    custom = sum(1 for r in cap.registrations if r.custom)
    del cap

    def bare() -> None:
        for i in range(total):
            aws.sqs.Queue(f"plain-{i}", tags={"lockstep-workflow": f"bench-{i}", "lockstep-target": "aws"})

    t0 = time.perf_counter()
    base = capture(bare, stack="prod")
    bare_s = time.perf_counter() - t0
    assert len(base.registrations) == total
    return {
        "workflows": count, "registrations": total, "custom_resources": custom, "components": total - custom,
        "load_s": round(load_s, 2), "program_s": round(program_s, 2), "bare_loop_s": round(bare_s, 2),
        "program_ms_per_resource": round(1000 * program_s / total, 3),
        "bare_ms_per_resource": round(1000 * bare_s / total, 3),
        "ratio": round(program_s / bare_s, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
    }


def main() -> None:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.workflows)
    print(json.dumps(figures, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
