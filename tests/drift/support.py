"""A scratch copy of the example repo, the CLI run in-process, and the seeding of one stack's workflows."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from infra.cli import main
from infra.loader import load_repo
from tests.drift import seed

REPO = Path(__file__).resolve().parents[2]


def scratch(root: Path, workflows: Sequence[str]) -> Path:
    """Copy the named example workflow files, their functions and the stack files into root."""
    (root / "workflows").mkdir(parents=True)
    for name in workflows:
        shutil.copy(REPO / "workflows" / f"{name.replace('-', '_')}.py", root / "workflows")
    shutil.copytree(REPO / "workflows" / "functions", root / "workflows" / "functions",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    return root


def deploy(root: Path, stack: str, targets: dict[str, Callable[[Any, dict[str, list[dict[str, Any]]]], None]],
           only: Sequence[str] = ()) -> None:
    """Seed every workflow of the stack on the given targets, from what the program registers."""
    repo = load_repo(root).require_valid()
    st = repo.stack(stack)
    for wf in repo.workflows:
        if only and wf.name not in only:
            continue
        for target, fill in targets.items():
            if target in wf.target_names():
                fill(wf, seed.registered(root, st, wf, target))


def drift(root: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `lockstep drift --format json` in-process; return its exit code and parsed report."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["drift", "--root", str(root), "--format", "json", *args])
    return code, json.loads(out.getvalue())


def run(*argv: str) -> tuple[int, str]:
    """Run any lockstep command in-process; return its exit code and stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def fields(report: dict[str, Any]) -> list[tuple[str, str, str, str, object, object]]:
    """Return (level, workflow, target, attribute, git, live) of every finding."""
    return [(f["level"], f["workflow"], f["target"], f["attribute"] or f["kind"], f["desired"], f["live"])
            for f in report["findings"]]
