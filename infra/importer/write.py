"""Write adopted workflow files and their import records: refuse collisions and overlaps, then prove each file
validates to what was found.

A name already declared, a file already there, an item that overlaps a declared workflow (same code, equivalent
fire times) or two copies of one exact-duplicate group are reported and nothing is written. Each file written is
loaded back; unless it validates and declares the discovered schedule, function and timeout, it is removed again.
Beside it goes `workflows/<file>.import.json`: the live children's import IDs for this stack (infra/imports.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from infra import imports
from infra.errors import LockstepError
from infra.importer.discover import Inventory, Item
from infra.importer.overlap import HORIZON_DAYS, Overlap
from infra.importer.record import live_children
from infra.importer.to_workflow import Draft, draft, workflow_name
from infra.loader import LoadResult, load_repo
from infra.model import StackConfig, Workflow
from infra.schedule.equivalence import TargetContext, check


def adopt(root: Path, repo: LoadResult, stack: StackConfig, inv: Inventory, ov: Overlap, keys: Sequence[str],
          names: Mapping[str, str], owner: str) -> list[str]:
    """Write workflows/<name>.py for every key; return the files written (raise with every refusal at once)."""
    by_key = {i.key: i for i in inv.items}
    problems = [f"{k}: not found (run `lockstep import discover` for the keys)" for k in keys if k not in by_key]
    drafts: list[tuple[Item, Draft]] = []
    live: dict[str, Mapping[str, imports.LiveChild]] = {}
    for key in (k for k in keys if k in by_key):
        item = by_key[key]
        try:
            drafts.append((item, draft(item, stack, names.get(key) or workflow_name(item), owner)))
            live[key] = live_children(item, inv.items)
        except LockstepError as exc:
            problems.append(str(exc).removeprefix("import adopt: "))
    problems += _collisions(root, repo.workflows, drafts, ov)
    if problems:
        raise LockstepError("import adopt: nothing written:\n  " + "\n  ".join(problems))
    written = []
    for item, d in drafts:
        _write(root, item, d)
        record = imports.record_path(d.file)
        (root / record).write_text(imports.render(d.name, {stack.name: {item.found.target: live[item.key]}}),
                                   encoding="utf-8")
        written += [d.file, record]
    return written


def _collisions(root: Path, declared: Sequence[Workflow], drafts: Sequence[tuple[Item, Draft]],
                ov: Overlap) -> list[str]:
    out, names = [], {wf.name: wf for wf in declared}
    for item, d in drafts:
        if d.name in names:
            out.append(f"{item.key}: workflow {d.name!r} already exists ({names[d.name].location.path}); "
                       f"choose another with --name {item.key}=NAME")
        elif (root / d.file).exists() or (root / imports.record_path(d.file)).exists():
            out.append(f"{item.key}: {d.file} (or its import record) already exists; choose another name with "
                       f"--name {item.key}=NAME")
        out += [f"{item.key}: overlaps workflow {wf.name!r} ({wf.location.path}): the same code at equivalent fire "
                "times; it is already declared" for wf in declared if _overlaps(item, wf)]
        if not (root / "workflows" / d.source).is_dir() and item.found.target == "onprem":
            out.append(f"{item.key}: a crontab line runs a command, not a function: put a Python function that does "
                       f"its work in workflows/{d.source}/main.py (def handler(event, context)), then run adopt again")
        elif not (root / "workflows" / d.source).is_dir():
            out.append(f"{item.key}: put the function's code in workflows/{d.source}/ (the platform does not let "
                       "Lockstep download it), then run adopt again")
    chosen = {i.key for i, _d in drafts}
    for g in ov.groups:
        both = sorted(chosen & set(g.members))
        if g.kind == "exact" and len(both) > 1:
            out.append(f"{', '.join(both)} are exact duplicates of each other: adopt only {g.keep}")
    return out


def _overlaps(item: Item, wf: Workflow) -> bool:
    if not item.found.code or item.found.code != wf.code_digest:
        return False
    n = item.native
    ctx = TargetContext(item.found.target, n.platform, host_timezone=n.timezone or "UTC", native=n)
    return all(v.equivalent for v in check(wf.schedule, [ctx], horizon_days=HORIZON_DAYS,
                                           start=dt.datetime.now(dt.UTC)))


def _write(root: Path, item: Item, d: Draft) -> None:
    path = root / d.file
    path.write_text(d.text, encoding="utf-8")
    result = load_repo(root)
    errors = [e for e in result.errors if e.path == d.file]
    wf = next((w for w in result.workflows if w.name == d.name), None)
    mismatch = _mismatch(item, wf) if wf is not None else []
    if errors or wf is None or mismatch:
        path.unlink()
        why = "; ".join([e.render() for e in errors] + mismatch) or "it declares no workflow"
        raise LockstepError(f"import adopt: {d.file} does not validate to what {item.key} runs, removed: {why}")


def _mismatch(item: Item, wf: Workflow) -> list[str]:
    """Return what the loaded workflow declares differently from what was discovered."""
    f, s = item.found, item.schedule
    assert s is not None
    pairs: list[tuple[str, object, object]] = [("schedule", (s.kind, s.expression, s.timezone),
              (wf.schedule.kind, wf.schedule.expression, wf.schedule.timezone)),
             ("env", dict(f.env), dict(wf.function.env))]
    if f.entry:  # a crontab line has none: the function the user wrote for it declares main.handler
        pairs.append(("entry", f.entry, wf.function.entry))
    if f.timeout_s:
        pairs.append(("timeout", f.timeout_s, wf.timeout_s))
    if f.memory_mb:
        pairs.append(("memory", f.memory_mb, wf.function.memory_mb))
    if f.code and ":" not in f.code:  # Lockstep's source digest: the code brought must be the code that runs
        pairs.append(("code", f.code, wf.code_digest))
    return [f"{name}: found {a!r}, the file declares {b!r}" for name, a, b in pairs if a != b]
