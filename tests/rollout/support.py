"""A scratch repository to roll out: one workflow on AWS and GCP (two waves), commits A and B, clones at each."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = '''"""Rollout probe: one workflow the rollout tests release."""

from infra.dsl import cron, workflow

workflow(
    name="{name}",
    schema=1,
    description="A workflow the rollout tests release and roll back.",
    owner="rollout-tests@example.com",
    schedule=cron("15 2 * * *", tz="UTC"),
    function={{"source": "functions/probe", "entry": "main.handler", "runtime": "python3.12", "memory_mb": 256,
              "env": {{"MODE": "{mode}"}}}},
    retry={{"attempts": 2, "backoff": "fixed", "delay": "30s", "max_delay": "30s", "max_event_age": "1h"}},
    timeout="{timeout}",
    notify=["mailto:rollout-tests@example.com"],
    targets={targets},
)
'''
CLOUD_STACK = """config:
  lockstep:aws:
    region: eu-central-1
  lockstep:gcp:
    project: acme-rollout-{stack}
    region: europe-west1
  lockstep:rollout:
    waves: [[aws], [gcp]]
"""


def git(root: Path, *args: str) -> str:
    """Run git in root with a fixed identity and return its output."""
    return subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True).stdout


@dataclass(frozen=True)
class Repo:
    """The origin with commits A and B, and a clone checked out at each."""

    origin: Path
    a: str
    b: str
    at_a: Path
    at_b: Path


def workflow_text(name: str, *, mode: str = "a", timeout: str = "2m", targets: str = '{"aws": {}, "gcp": {}}') -> str:
    """Return a workflow file."""
    return WORKFLOW.format(name=name, mode=mode, timeout=timeout, targets=targets)


def make_repo(root: Path, name: str = "rollout-probe", stacks: dict[str, str] | None = None,
              targets: str = '{"aws": {}, "gcp": {}}') -> Repo:
    """Create the origin (A: the workflow; B: its timeout and env changed) and one clone at each commit."""
    origin = root / "origin"
    (origin / "workflows" / "functions" / "probe").mkdir(parents=True)
    (origin / "workflows" / "functions" / "probe" / "main.py").write_text("def handler(event, context):\n"
                                                                         "    return 'ok'\n")
    shutil.copy(REPO / "Pulumi.yaml", origin / "Pulumi.yaml")
    for stack, text in (stacks or {s: CLOUD_STACK.format(stack=s) for s in ("staging", "prod")}).items():
        (origin / f"Pulumi.{stack}.yaml").write_text(text)
    flow = origin / "workflows" / "probe.py"
    flow.write_text(workflow_text(name, targets=targets))
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "A")
    a = git(origin, "rev-parse", "HEAD").strip()
    flow.write_text(workflow_text(name, mode="b", timeout="4m", targets=targets))
    git(origin, "commit", "-q", "-am", "B")
    b = git(origin, "rev-parse", "HEAD").strip()
    clones = []
    for label, commit in (("at-a", a), ("at-b", b)):
        clone = root / label
        git(root, "clone", "-q", str(origin), str(clone))
        git(clone, "checkout", "-q", commit)
        clones.append(clone)
    return Repo(origin, a, b, clones[0], clones[1])


def bare_remote(root: Path) -> Path:
    """Create an empty bare repository: the ledger's remote."""
    remote = root / "ledger.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    return remote
