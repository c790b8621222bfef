"""Which on-prem host a workflow runs on in each stack, and the errors when a stack lacks it.

The rule: a workflow's `host` is either one host name, which every stack deploying the workflow on-prem must have,
or a mapping {stack: host}, which deploys on-prem only in the stacks it names (so a prod-only host is usable).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from infra.errors import SpecError
from infra.model import StackConfig, Workflow

FIELD = "targets.onprem.host"


def check(wf: Workflow, stacks: Sequence[StackConfig], stack_names: Collection[str],
          blocked: set[tuple[str, str]], warnings: list[SpecError]) -> list[SpecError]:
    """Return the host errors of one workflow; add each (workflow, stack) pair that cannot be built to `blocked`."""
    if wf.target("onprem") is None:
        return []
    errors = _unknown_stacks(wf, stack_names)
    mapping = wf.local("onprem", "host")
    for stack in stacks:
        name = wf.host_in(stack.name)
        if stack.onprem is None:
            if isinstance(mapping, Mapping) and stack.name in mapping:
                warnings.append(_at(wf, mapping[stack.name], f"is mapped to stack {stack.name!r}, whose on-prem "
                                    f"target is off ({stack.path}), so it does not run there",
                                    f"enable lockstep:onprem in {stack.path}, or drop {stack.name!r} from the mapping"))
            continue
        if name is None or stack.onprem.host(name) is not None:
            continue
        blocked.add((wf.name, stack.name))
        hosts = ", ".join(h.name for h in stack.onprem.hosts)
        fix = f"use one of: {hosts}, or add the host to {stack.path}"
        if not isinstance(mapping, Mapping):
            fix += f", or name a host per stack ('host': {{{stack.name!r}: {stack.onprem.hosts[0].name!r}, ...}})"
        errors.append(_at(wf, name, f"is not a host of stack {stack.name!r} ({stack.path})", fix))
    return errors


def _unknown_stacks(wf: Workflow, stack_names: Collection[str]) -> list[SpecError]:
    mapping = wf.local("onprem", "host")
    if not isinstance(mapping, Mapping):
        return []
    known = ", ".join(sorted(stack_names)) or "(none)"
    return [_at(wf, stack, f"names stack {stack!r}, but there is no Pulumi.{stack}.yaml",
                f"use one of the stacks: {known}") for stack in mapping if stack not in stack_names]


def _at(wf: Workflow, value: object, why: str, fix: str) -> SpecError:
    return SpecError(wf.location.path, wf.line_of(FIELD), FIELD, value, why, fix)
