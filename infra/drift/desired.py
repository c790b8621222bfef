"""What git declares for a stack: every workflow's typed desired state on every target it deploys to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import imports
from infra.errors import SpecError, SpecInvalid
from infra.loader import load_repo
from infra.model import StackConfig, Workflow
from infra.targets.registry import TARGETS


@dataclass(frozen=True)
class Declared:
    """One workflow on one target as git declares it."""

    workflow: Workflow
    target: str
    desired: Any
    package_sha256_b64: str | None = None
    # What its import record adopts on this target: read under their live names.
    live: imports.Children = field(default_factory=lambda: imports.NO_CHILDREN)


@dataclass(frozen=True)
class Declaration:
    """The stack and its declared (workflow, target) pairs; `refused` names pairs the gate would refuse to deploy."""

    root: Path
    stack: StackConfig
    declared: tuple[Declared, ...]
    refused: tuple[tuple[str, str, str], ...]  # (workflow, target, why)
    deployed: frozenset[tuple[str, str]] = frozenset()  # every (workflow, target) of the stack, before narrowing

    def workflows(self) -> dict[str, Workflow]:
        """Return the declared workflows by name."""
        return {d.workflow.name: d.workflow for d in self.declared}


def declaration(root: Path, stack_name: str, workflows: Sequence[str] = (), targets: Sequence[str] = (),
                packages: bool = True) -> Declaration:
    """Load the repo and return the stack's desired state, narrowed to the named workflows and targets."""
    repo = load_repo(root).require_valid()
    stack = repo.stack(stack_name)
    known = {w.name for w in repo.workflows}
    unknown = [w for w in workflows if w not in known]
    if unknown:
        raise SpecInvalid([SpecError("workflows", 1, "--workflow", w, "is not a workflow of this repo",
                                     f"use one of: {', '.join(sorted(known))}") for w in unknown])
    declared, refused = [], []
    cache: dict[tuple[str, str], str] = {}
    deployed = frozenset((wf.name, t) for wf in repo.workflows for t in wf.targets_in(stack))
    for wf in repo.workflows:
        if workflows and wf.name not in workflows:
            continue
        for spec in wf.targets:
            t = spec.name
            if (targets and t not in targets) or (wf.name, t) not in deployed:
                continue
            tr = TARGETS[t].translate(wf, stack)
            if tr.refused():
                refused.append((wf.name, t, "; ".join(f"{k}: {v.reason}" for k, v in tr.refused().items())))
                continue
            package = _package(wf, repo.root, t, cache) if packages else None
            live = imports.children(repo.root, wf.location.path, stack.name, t)
            declared.append(Declared(wf, t, tr.desired, package, live))
    return Declaration(repo.root, stack, tuple(declared), tuple(refused), deployed)


def _package(wf: Workflow, root: Path, target: str, cache: dict[tuple[str, str], str]) -> str | None:
    """Return the package hash the program deploys, for targets whose platform reports one (AWS Lambda)."""
    if target != "aws":
        return None
    key = (wf.function.source, wf.code_digest)
    if key not in cache:
        from infra.bundle import bundle

        cache[key] = bundle(wf, root, target).sha256_b64
    return cache[key]
