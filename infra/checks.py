"""Validate a repository completely: the model's own checks, then schedule equivalence on every target."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from infra.errors import SpecError
from infra.loader import LoadResult, load_repo
from infra.model import Workflow
from infra.schedule.workflow_check import Finding, check_all


def validate_repo(root: Path) -> LoadResult:
    """Load root and add schedule non-equivalence as errors (and assumed-only equivalence as warnings)."""
    result = load_repo(root)
    by_name = {w.name: w for w in result.workflows}
    errors, warnings = list(result.errors), list(result.warnings)
    seen: set[tuple[str, str, str]] = set()
    for finding in check_all(result.workflows, result.stacks):
        wf = by_name[finding.workflow]
        key = (finding.workflow, finding.target, finding.message)
        if finding.level == "ok" or key in seen:
            continue
        seen.add(key)
        (errors if finding.level == "error" else warnings).append(_as_error(wf, finding))
    errors.sort(key=lambda e: (e.path, e.line, e.field))
    return dataclasses.replace(result, errors=tuple(errors), warnings=tuple(warnings))


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
    why = f"fires differently on {finding.target} ({verdict.platform}): {first.kind} first at {instant}: {detail}"
    fix = f"fix the schedule, or accept it with divergence(target='{finding.target}', kind='{first.kind}', reason=...)"
    return SpecError(wf.location.path, line, field, wf.schedule.expression, why, fix)
