"""The Pulumi program: read the stack config, load the workflows, build their components for the stack's targets.

The real CLI runs it through Pulumi.yaml (`main: infra/` -> infra/__main__.py -> main()); the offline engine runs
`build` under Pulumi's mocks. Both go through the same loader and the same fidelity refusals, so a wrong config or an
impossible field stops both with the same file:line messages `lockstep validate` prints.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pulumi

from infra import fidelity, imports
from infra.checks import validate_repo
from infra.component import WorkflowComponent
from infra.errors import LockstepError, SpecError, SpecInvalid
from infra.gitinfo import commits
from infra.ledger import hook
from infra.ledger.writer import LeaseCheck
from infra.loader import LoadResult
from infra.model import StackConfig, Workflow
from infra.targets.base import Context
from infra.targets.registry import TARGETS

EPOCH_ENV = "LOCKSTEP_EPOCH"


class Providers:
    """The explicit providers of one program run: one per (target, region / location / project)."""

    def __init__(self, stack: StackConfig, prefix: str = "") -> None:
        self._stack, self._prefix = stack, prefix
        self._made: dict[tuple[str, str], pulumi.ProviderResource] = {}

    def _get(self, key: tuple[str, str], make: Callable[[str], pulumi.ProviderResource]) -> pulumi.ProviderResource:
        if key not in self._made:
            self._made[key] = make(f"{self._prefix}{key[0]}-{key[1]}")
        return self._made[key]

    def for_workflow(self, wf: Workflow, targets: Sequence[str]) -> list[pulumi.ProviderResource]:
        """Return the providers a workflow's targets use, as each target's desired state says (region, ...)."""
        out = []
        for target in targets:
            component, desired = TARGETS[target].component(), TARGETS[target].translate(wf, self._stack).desired
            key = component.provider_key(desired)
            if key is not None:
                out.append(self._get(key, functools.partial(component.new_provider, d=desired)))
        return out


def targets_of(wf: Workflow, stack: StackConfig) -> tuple[str, ...]:
    """Return the targets a workflow deploys to in a stack: declared by the workflow and enabled by the stack."""
    return wf.targets_in(stack)


def refusals(result: LoadResult, stack: StackConfig) -> list[SpecError]:
    """Return every impossible field of every workflow on every target of the stack."""
    return [e for wf in result.workflows for t in targets_of(wf, stack) for e in fidelity.refusals(wf, stack, t)]


def build_one(wf: Workflow, stack: StackConfig, root: Path, commit: str, *, providers: Providers | None = None,
              epoch: int = 0) -> WorkflowComponent:
    """Build one workflow's component; without shared providers it gets its own, named after it."""
    targets = targets_of(wf, stack)
    for target in targets:
        fidelity.require(wf, stack, target)
    chosen = (providers or Providers(stack, prefix=f"{wf.name}-")).for_workflow(wf, targets)
    ctx = Context(stack, root, commit, epoch, imports.read(root, wf.location.path, stack.name))
    return WorkflowComponent(wf, ctx, targets, pulumi.ResourceOptions(providers=chosen))


def build(result: LoadResult, stack: StackConfig, *, commit_of: Callable[[Workflow], str],
          epoch: int = 0) -> list[WorkflowComponent]:
    """Build one lockstep:index:Workflow per workflow for the stack; refuse (all errors at once) before any."""
    errors = refusals(result, stack)
    if errors:
        raise SpecInvalid(errors)
    providers = Providers(stack)
    return [build_one(wf, stack, result.root, commit_of(wf), providers=providers, epoch=epoch)
            for wf in result.workflows if targets_of(wf, stack)]


def epoch_from_env() -> int:
    """Return the on-prem fencing epoch the rollout passes in $LOCKSTEP_EPOCH (0 when absent: a preview)."""
    raw = os.environ.get(EPOCH_ENV, "0")
    if not raw.isdigit():
        raise LockstepError(f"{EPOCH_ENV}={raw!r} is not a non-negative integer; unset it or pass the epoch "
                            "the rollout holds")
    return int(raw)


def run(root: Path, stack_name: str) -> list[WorkflowComponent]:
    """Load the repository at root and build the named stack (raises LockstepError with every problem)."""
    result = validate_repo(root).require_valid()
    lease = LeaseCheck.from_env()
    if lease is not None:  # a rollout's apply: the engine refuses every resource operation once the lease moves
        hook.install(lease)
    return build(result, result.stack(stack_name), commit_of=commits(root, result.workflows), epoch=epoch_from_env())


def main() -> None:
    """Pulumi.yaml's entry: build the current stack; a user error becomes a RunError (no traceback)."""
    root = Path(__file__).resolve().parents[1]
    try:
        run(root, pulumi.get_stack())
    except LockstepError as exc:
        count = len(exc.errors) if isinstance(exc, SpecInvalid) else 1
        raise pulumi.RunError(f"lockstep: {count} error(s) in the workflows or stack config; nothing was "
                              f"built:\n{exc}") from None
