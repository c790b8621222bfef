"""Validate a repository completely: the model's own checks, then platform limits and schedule equivalence."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from infra import imports
from infra.checkmemo import Judged, Verdicts
from infra.errors import SpecError
from infra.horizon import Horizon, anchored
from infra.loader import LoadResult, load_repo
from infra.loadmemo import Memo, Store, loader_hash
from infra.model import Workflow
from infra.schedule.workflow_check import advice
from infra.targets.aws import facts as aws_facts
from infra.targets.azure import facts as azure_facts
from infra.targets.gcp import facts as gcp_facts
from infra.targets.onprem import facts as onprem_facts

SHA256 = re.compile(r"^[0-9a-f]{64}$")
LATER_CHECKS = "platform limits, schedule equivalence and overlap"
# The targets whose components take an import record, and the child roles of each (infra/imports.py).
IMPORTABLE = {"aws": aws_facts.IMPORTABLE, "azure": azure_facts.IMPORTABLE, "gcp": gcp_facts.IMPORTABLE,
              "onprem": onprem_facts.IMPORTABLE}


def validate_repo(root: Path, horizon: Horizon | None = None, store: Store | None = None) -> LoadResult:
    """Load root; add what no target can honour, and schedule non-equivalence, as errors (assumed-only: warnings).

    Every check runs on whatever is valid; what could not be checked is listed in `skipped`, with the reason. With a
    `store`, each file's load and each workflow's checks are remembered there (infra/loadmemo.py,
    infra/checkmemo.py): what did not change since is not loaded or judged again, and the result is the same.
    """
    code = loader_hash() if store is not None else ""
    result = load_repo(root, Memo(store, code) if store is not None else None)
    horizon = horizon or anchored(result.root)
    verdicts = Verdicts(store, code)
    verdicts.begin()
    errors, warnings = list(result.errors), list(result.warnings)
    refused = _refusals(result, verdicts, errors)
    _equivalence(result, verdicts, horizon, refused, errors, warnings)
    verdicts.save()
    errors += import_records(result)
    errors.sort(key=lambda e: (e.path, e.line, e.field))
    return dataclasses.replace(result, errors=tuple(errors), warnings=tuple(warnings),
                               skipped=_skipped(result), horizon=horizon)


def _refusals(result: LoadResult, verdicts: Verdicts, errors: list[SpecError]) -> set[tuple[str, str]]:
    """Add what a platform cannot honour to `errors` (once); return the (workflow, target) refusing the schedule."""
    refused: set[tuple[str, str]] = set()
    for stack in result.stacks:
        for wf in result.workflows:
            if (wf.name, stack.name) in result.blocked:
                continue
            found = verdicts.refusals(wf, stack)
            for error in found.errors:
                if error not in errors:
                    errors.append(error)
            refused.update((wf.name, t) for t in found.impossible)
    return refused


def _equivalence(result: LoadResult, verdicts: Verdicts, horizon: Horizon, refused: set[tuple[str, str]],
                 errors: list[SpecError], warnings: list[SpecError]) -> None:
    """Add each divergence (each assumed-only agreement: a warning) once, except on targets refusing the schedule."""
    by_name = {w.name: w for w in (*result.partial, *result.workflows)}
    seen: set[tuple[str, str, str]] = set()
    for stack in result.stacks or (None,):  # no stack: judged under defaults
        for wf in (*result.workflows, *result.partial):
            if stack is not None and (wf.name, stack.name) in result.blocked:
                continue
            for finding in verdicts.findings(wf, stack, horizon):
                key = (finding.workflow, finding.target, finding.message)
                if key in seen or (finding.workflow, finding.target) in refused:
                    continue
                seen.add(key)
                (errors if finding.level == "error" else warnings).append(_as_error(by_name[finding.workflow],
                                                                                     finding))


def import_records(result: LoadResult) -> list[SpecError]:
    """Return every problem of the workflows' import records (workflows/<file>.import.json): validate and preview."""
    stacks = {s.name for s in result.stacks}
    out = []
    for wf in result.workflows:  # a record that reads is checked against the workflow's hosts too
        out += imports.check(result.root, wf.location.path, wf.name, stacks, IMPORTABLE) or _adopted_lines(result, wf)
    return out


def _adopted_lines(result: LoadResult, wf: Workflow) -> list[SpecError]:
    """Return what is wrong with an adopted crontab line: it must be on the host the workflow runs on, by digest."""
    out = []
    rel = imports.record_path(wf.location.path)
    for stack in result.stacks:
        child = imports.children(result.root, wf.location.path, stack.name, "onprem").get("host")
        if child is None or stack.onprem is None:
            continue
        host = wf.host_in(stack.name) or stack.onprem.hosts[0].name
        field = f"import.stacks.{stack.name}.onprem.host"
        if child.names.get("host") != host:
            out.append(SpecError(rel, imports.line_of(result.root, wf.location.path, "host"), f"{field}.host",
                                 child.names.get("host"),
                                 f"the adopted crontab line is on host {child.names.get('host')!r}, but the workflow "
                                 f"runs on {host!r} in stack {stack.name!r}",
                                 f"set the workflow's onprem host to {child.names.get('host')!r}, or adopt the line "
                                 "on the host it runs on"))
        if not SHA256.match(child.names.get("line", "")):
            out.append(SpecError(rel, imports.line_of(result.root, wf.location.path, "line"), f"{field}.line",
                                 child.names.get("line"),
                                 "is not the sha256 of the adopted crontab line",
                                 "write the record again with `lockstep import adopt`"))
    return out


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


def _as_error(wf: Workflow, finding: Judged) -> SpecError:
    accepted = {(a.target, a.kind) for a in wf.accepted_divergences}
    line, field = wf.line_of("schedule.expression"), "schedule"
    if finding.level == "warning":
        why = f"{finding.target} ({finding.platform}) agrees only under an assumed DST rule (undocumented)"
        fix = f"move the time out of the DST window, or accept it with divergence(target='{finding.target}', " \
              "kind='assumed', reason=...)"
        return SpecError(wf.location.path, line, field, wf.schedule.expression, why, fix)
    kind, instant, detail = next(d for d in finding.divergences if (finding.target, d[0]) not in accepted)
    detail = detail.replace(" — ", ": ")
    when = f" first at {instant}" if instant else ""
    why = f"fires differently on {finding.target} ({finding.platform}): {kind}{when}: {detail}"
    fix = advice(finding.target, kind) or f"change the schedule, or drop {finding.target} from the targets"
    return SpecError(wf.location.path, line, field, wf.schedule.expression, why, fix)
