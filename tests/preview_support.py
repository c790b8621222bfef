"""A small scratch repository (two example workflows, committed on main) for end-to-end preview tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEEP = ("hourly_inventory_snapshot.py", "quarter_hour_queue_drain.py")


def git(root: Path, *args: str) -> str:
    """Run git in root (with a fixed identity) and return its output."""
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=t@example.com",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)
    return done.stdout


def scratch_repo(root: Path) -> Path:
    """Create a git repo with two example workflows and the stack files, committed on branch main."""
    (root / "workflows").mkdir(parents=True)
    for name in KEEP:
        shutil.copy(REPO / "workflows" / name, root / "workflows" / name)
    shutil.copytree(REPO / "workflows" / "functions", root / "workflows" / "functions",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of text in a file (fails if it is absent)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
