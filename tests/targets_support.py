"""Capture the real program on the repo's real workflows and stacks under Pulumi mocks, once per session."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra import program
from infra.loader import LoadResult, load_repo
from infra.preflight.capture import Capture, Registration, capture

REPO = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def build_capture(result: LoadResult, stack_name: str, commit: str = COMMIT) -> Capture:
    """Run program.build for a stack under mocks and return every registration."""
    stack = result.stack(stack_name)
    return capture(lambda: program.build(result, stack, commit_of=lambda _wf: commit), stack=stack_name)


def with_staging_vault(root: Path) -> Path:
    """Give a scratch repo's staging stack a Key Vault and its group (Azure secrets need both), if it has none."""
    path = root / "Pulumi.staging.yaml"
    text = path.read_text()
    if "keyVault:" not in text:
        text = re.sub(r"(\n  lockstep:azure:\n)", r"\1    resourceGroup: rg-lockstep-staging\n"
                      r"    keyVault: kv-lockstep-staging\n", text, count=1)
        path.write_text(text)
    return root


def without_staging_vault(root: Path) -> Path:
    """Remove the Key Vault settings from a scratch repo's staging stack."""
    path = root / "Pulumi.staging.yaml"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                            if "keyVault:" not in line and "resourceGroup:" not in line))
    return root


def scratch_repo(tmp: Path) -> Path:
    """Return a scratch copy of the repo's workflows and stack files."""
    root = tmp / "repo"
    shutil.copytree(REPO / "workflows", root / "workflows", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    return root


def one(cap: Capture, type_: str, name: str) -> Registration:
    """Return the single registration of a type and logical name; fail naming what exists."""
    found = [r for r in cap.of_type(type_) if r.name == name]
    assert len(found) == 1, f"expected one {type_} named {name!r}; have {[r.name for r in cap.of_type(type_)]}"
    return found[0]


def where(r: Registration) -> str:
    """Return the URN, for assertion messages."""
    return r.urn


def policy(r: Registration) -> dict[str, Any]:
    """Return a registered IAM policy document."""
    doc: dict[str, Any] = json.loads(r.inputs["policy"])
    return doc


def settings(r: Registration) -> dict[str, str]:
    """Return a registered WebApp's app settings as a mapping."""
    return {p["name"]: p["value"] for p in r.inputs["siteConfig"]["appSettings"]}


Matcher = Callable[[Registration], bool]


_CACHE: dict[str, Capture] = {}


def prod() -> Capture:
    """Return the capture of the real repo's prod stack (built once per test session)."""
    if "prod" not in _CACHE:
        _CACHE["prod"] = build_capture(load_repo(REPO).require_valid(), "prod")
    return _CACHE["prod"]


def staging(tmp_root: Callable[[], Path]) -> Capture:
    """Return the capture of staging on a scratch copy that has a Key Vault (built once per test session)."""
    if "staging" not in _CACHE:
        root = with_staging_vault(scratch_repo(tmp_root()))
        _CACHE["staging"] = build_capture(load_repo(root).require_valid(), "staging")
    return _CACHE["staging"]
