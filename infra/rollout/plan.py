"""What one rollout releases: a commit's workflows on one stack, split into the stack's waves, each wave with the
URNs `pulumi up --target` is restricted to.

The URNs come from running the program under Pulumi's mocks, the way the gate does: URNs are deterministic (stack,
project, parent chain, name), so the same list restricts the real engine and the test engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.checks import validate_repo
from infra.gitinfo import commits
from infra.loader import LoadResult
from infra.model import StackConfig, Workflow
from infra.preflight.capture import Capture, Registration
from infra.preflight.evaluate import run_capture
from infra.program import build, targets_of

TARGET_TYPE = "lockstep:{target}:Workflow"
WORKFLOW_TYPE = "lockstep:index:Workflow"
_CAPTURES: dict[tuple[str, str, int], Capture] = {}


@dataclass(frozen=True)
class Wave:
    """One wave: its targets and every URN (components, resources, their providers) `up` may touch."""

    index: int
    targets: tuple[str, ...]
    urns: tuple[str, ...]
    owned: Mapping[str, tuple[str, str]]  # URN -> (workflow, target) for the resources a workflow owns


@dataclass(frozen=True)
class Release:
    """One commit of the repository as deployed to one stack."""

    stack: StackConfig
    commit: str
    root: Path
    workflows: tuple[Workflow, ...]
    waves: tuple[Wave, ...]
    git_root: Path

    @property
    def digests(self) -> dict[str, str]:
        """Return workflow -> spec digest for every workflow the stack deploys."""
        return {wf.name: wf.digest for wf in self.workflows}

    def on(self, target: str) -> tuple[Workflow, ...]:
        """Return the workflows deployed to a target."""
        return tuple(wf for wf in self.workflows if target in targets_of(wf, self.stack))

    def wave_digests(self, wave: Wave) -> dict[str, str]:
        """Return the spec digests of the workflows a wave deploys."""
        return {wf.name: wf.digest for wf in self.workflows if set(targets_of(wf, self.stack)) & set(wave.targets)}


def head_commit(root: Path) -> str:
    """Return the commit HEAD points at (the release), or raise LockstepError when root is not a git checkout."""
    from infra.preflight.base import _git

    return _git(root, "rev-parse", "HEAD")


def load(root: Path, stack_name: str, commit: str, *, epoch: int = 0, git_root: Path | None = None) -> Release:
    """Load the tree at root (a checkout of `commit`, or an export of it from `git_root`) and plan its release."""
    result = validate_repo(root).require_valid()
    stack = result.stack(stack_name)
    workflows = tuple(wf for wf in result.workflows if targets_of(wf, stack))
    cap = capture(root, result, stack, epoch, git_root=git_root, rev=commit)
    waves = tuple(Wave(i, wave, wave_urns(cap, wave), owners(cap, wave)) for i, wave in enumerate(stack.waves))
    return Release(stack, commit, root, workflows, waves, git_root or root)


def capture(root: Path, result: LoadResult, stack: StackConfig, epoch: int, *, git_root: Path | None = None,
            rev: str = "HEAD") -> Capture:
    """Run the program for the stack under mocks (memoised per tree, stack and epoch); stamps come from git."""
    key = (str(root.resolve()), stack.name, epoch)
    if key not in _CAPTURES:
        commit_of = commits(git_root, result.workflows, rev=rev, dirty_check=False) if git_root else \
            commits(root, result.workflows)
        _CAPTURES[key] = run_capture(lambda: _ignore(build(result, stack, commit_of=commit_of, epoch=epoch)),
                                     stack.name)
    return _CAPTURES[key]


def _ignore(_value: object) -> None:
    return None


def target_of(reg: Registration, by_urn: Mapping[str, Registration]) -> tuple[str, str] | None:
    """Return (workflow, target) a registration belongs to: its `lockstep:<t>:Workflow` ancestor under the workflow."""
    node: Registration | None = reg
    while node is not None:
        parent = by_urn.get(node.parent)
        if node.type.startswith("lockstep:") and node.type.endswith(":Workflow") and node.type != WORKFLOW_TYPE \
                and parent is not None and parent.type == WORKFLOW_TYPE:
            return parent.name, node.type.split(":")[1]
        node = parent
    return None


def wave_urns(cap: Capture, targets: tuple[str, ...]) -> tuple[str, ...]:
    """Return the URNs of a wave: its targets' components and resources, their providers, and the workflow parents."""
    by_urn = {r.urn: r for r in cap.registrations}
    chosen: list[str] = []
    for reg in cap.registrations:
        owner = target_of(reg, by_urn)
        if owner is None or owner[1] not in targets:
            continue
        for urn in (reg.parent if by_urn.get(reg.parent, reg).type == WORKFLOW_TYPE else "", reg.urn,
                    reg.provider.rsplit("::", 1)[0] if reg.provider else ""):
            if urn and urn in by_urn and urn not in chosen:
                chosen.append(urn)
    return tuple(chosen)


def owners(cap: Capture, targets: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Return URN -> (workflow, target) for every registration of the wave's targets."""
    by_urn = {r.urn: r for r in cap.registrations}
    found = {r.urn: target_of(r, by_urn) for r in cap.registrations}
    return {urn: owner for urn, owner in found.items() if owner is not None and owner[1] in targets}


def plan_digest(plan: Path | None) -> str:
    """Return the sha256 of a saved plan file ('' when the engine saved none)."""
    if plan is None or not plan.is_file():
        return ""
    return hashlib.sha256(plan.read_bytes()).hexdigest()
