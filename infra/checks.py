"""Validate a repository completely: the model's own checks, then platform limits and schedule equivalence."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from infra import fidelity, imports
from infra.errors import SpecError
from infra.horizon import Horizon, anchored
from infra.loader import LoadResult, load_repo
from infra.model import StackConfig, Workflow
from infra.schedule.workflow_check import Finding, advice, check_all
from infra.targets.aws import facts as aws_facts
from infra.targets.gcp import facts as gcp_facts

LATER_CHECKS = "platform limits, schedule equivalence and overlap"
# The targets whose components take an import record, and the child roles of each (infra/imports.py).
IMPORTABLE = {"aws": aws_facts.IMPORTABLE, "gcp": gcp_facts.IMPORTABLE}


def validate_repo(root: Path, horizon: Horizon | None = None) -> LoadResult:
    """Load root; add what no target can honour, and schedule non-equivalence, as errors (assumed-only: warnings).

    Every check runs on whatever is valid; what could not be checked is listed in `skipped`, with the reason.
    """
    result = load_repo(root)
    horizon = horizon or anchored(result.root)
    by_name = {w.name: w for w in (*result.partial, *result.workflows)}
    errors, warnings = list(result.errors), list(result.warnings)
    refused: set[tuple[str, str]] = set()  # (workflow, target) whose schedule a platform refuses outright
    for stack in result.stacks:
        for error in _refusals(result.workflows, stack, result.blocked):
            if error not in errors:
                errors.append(error)
        refused.update((wf.name, t) for wf in result.workflows if (wf.name, stack.name) not in result.blocked
                       for t in wf.targets_in(stack)
                       if fidelity.translation(wf, stack, t).fidelity["schedule"].level == "impossible")
    seen: set[tuple[str, str, str]] = set()
    judged = (*result.workflows, *result.partial)
    for finding in check_all(judged, result.stacks, horizon.days, horizon.start, result.blocked):
        wf = by_name[finding.workflow]
        key = (finding.workflow, finding.target, finding.message)
        if finding.level == "ok" or key in seen or (finding.workflow, finding.target) in refused:
            continue
        seen.add(key)
        (errors if finding.level == "error" else warnings).append(_as_error(wf, finding))
    errors += _import_records(result)
    errors.sort(key=lambda e: (e.path, e.line, e.field))
    return dataclasses.replace(result, errors=tuple(errors), warnings=tuple(warnings),
                               skipped=_skipped(result), horizon=horizon)


def _import_records(result: LoadResult) -> list[SpecError]:
    """Return every problem of the workflows' import records (workflows/<file>.import.json)."""
    stacks = {s.name for s in result.stacks}
    return [e for wf in result.workflows
            for e in imports.check(result.root, wf.location.path, wf.name, stacks, IMPORTABLE)]


def _refusals(workflows: tuple[Workflow, ...], stack: StackConfig, blocked: frozenset[tuple[str, str]]
              ) -> list[SpecError]:
    return [e for wf in workflows if (wf.name, stack.name) not in blocked
            for t in wf.targets_in(stack) for e in fidelity.refusals(wf, stack, t)]


def _skipped(result: LoadResult) -> tuple[str, ...]:
    """Say which checks did not run, and why: they need a valid declaration or stack to run on."""
    valid_files = {wf.location.path for wf in result.workflows}
    schedule_only = {wf.location.path for wf in result.partial}
    stack_paths = {s.path for s in result.stacks}
    out = []
    for path in sorted({e.path for e in result.errors} - valid_files - stack_paths):
        if path.startswith("Pulumi."):
            out.append(f"{path}: no workflow was checked against this stack ({LATER_CHECKS}), because the stack "
                       "file has errors")
        elif path in schedule_only:
            out.append(f"{path}: platform limits and overlap were not checked (schedule equivalence was), because "
                       "the declaration has errors")
        elif path.endswith(".py"):
            out.append(f"{path}: {LATER_CHECKS} were not checked, because the declaration has errors")
    out.extend(f"{wf}: platform limits and schedule equivalence were not checked on stack {stack!r}, because its "
               "on-prem host is not there"
               for wf, stack in sorted(result.blocked))
    return tuple(out)


def _as_error(wf: Workflow, finding: Finding) -> SpecError:
    verdict, accepted = finding.verdict, {(a.target, a.kind) for a in wf.accepted_divergences}
    line, field = wf.line_of("schedule.expression"), "schedule"
    if finding.level == "warning":
        why = f"{finding.target} ({verdict.platform}) agrees only under an assumed DST rule (undocumented)"
        fix = f"move the time out of the DST window, or accept it with divergence(target='{finding.target}', " \
              "kind='assumed', reason=...)"
        return SpecError(wf.location.path, line, field, wf.schedule.expression, why, fix)
    first = next(d for d in verdict.divergences if (finding.target, d.kind) not in accepted)
    instant = (first.canonical or first.actual or ("",))[0]
    detail = first.detail.replace(" — ", ": ")
    when = f" first at {instant}" if instant else ""
    why = f"fires differently on {finding.target} ({verdict.platform}): {first.kind}{when}: {detail}"
    fix = advice(finding.target, first.kind) or f"change the schedule, or drop {finding.target} from the targets"
    return SpecError(wf.location.path, line, field, wf.schedule.expression, why, fix)
