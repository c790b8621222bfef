"""The offline gate: evaluate the head and the base revision of one stack, then give one verdict over all targets.

Glue only: load (infra.loader) -> per-workflow slices (evaluate, cached) -> stack-wide rules -> base slices -> plan
diff -> violations with file:line. Nothing counts as validated unless every target of every workflow is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import fidelity, imports, redact
from infra.checks import import_records
from infra.errors import SpecError, SpecInvalid
from infra.gitinfo import commits
from infra.loader import WORKFLOW_DIR, LoadResult, load_repo
from infra.loadmemo import Memo
from infra.model import TARGETS, StackConfig, Workflow
from infra.preflight import base as base_rev
from infra.preflight import isolate
from infra.preflight.analyze import Diagnostic
from infra.preflight.cache import Cache, code_hash, key
from infra.preflight.capture import Capture
from infra.preflight.evaluate import Rules, Slice, evaluate, run_capture, stack_wide
from infra.preflight.plan import Change, Resource, counts, diff, with_live
from infra.preflight.review import FieldDiff, head_state, stack_diff, workflow_diffs
from policies import lib, pack

CODE_ROOT = Path(__file__).resolve().parents[2]
Builder = Callable[[Workflow, StackConfig, Path, str], object]
Progress = Callable[[str, int, int], None]  # (phase, done, total)
TAMPERED = ("the gate's own code (infra/, policies/) changed on disk while this preview ran, so its verdict cannot "
            "be trusted — find what wrote there (a workflow file or the program under review), and run it again")


@dataclass(frozen=True)
class Violation:
    """One policy violation, placed on a target, a workflow and the workflow file's line."""

    target: str
    workflow: str
    rule: str
    level: str
    blocking: bool
    message: str
    path: str
    line: int
    urn: str


@dataclass
class Preview:
    """What `lockstep preview` reports: per-target changes and every violation; blocked if any is blocking."""

    stack: str
    targets: tuple[str, ...]
    base: str | None
    changes: list[Change]
    violations: list[Violation]
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[SpecError] = field(default_factory=list)  # the repo does not load: nothing else could run
    workflow_changes: list[FieldDiff] = field(default_factory=list)
    stack_change: FieldDiff | None = None
    head: str = ""
    base_how: str = ""
    off: dict[str, str] = field(default_factory=dict)  # target -> why this stack switches it off
    files: dict[str, str] = field(default_factory=dict)  # each head workflow -> the file that declares it
    cannot_run: str = ""  # why the preview could not run as asked (no base, an unwritable directory): exit 2

    @property
    def blocked(self) -> bool:
        """Tell whether the repo does not load, or any mandatory rule failed (or could not run) on any target."""
        return bool(self.errors) or bool(self.cannot_run) or any(v.blocking for v in self.violations)

    def rows(self) -> tuple[str, ...]:
        """Return the targets a summary shows: every enabled one, and every other one that loses resources."""
        changed = counts(self.changes)
        return tuple(t for t in TARGETS if t in self.targets or t in changed)


def default_builder() -> Builder:
    """Return the real program's per-workflow builder, with the stack's shared provider names."""
    from infra.program import Providers, build_one

    def build(wf: Workflow, stack: StackConfig, root: Path, commit: str) -> object:
        return build_one(wf, stack, root, commit, providers=Providers(stack))
    return build


def preview(root: Path, stack_name: str, *, base: str | None = None, compare: bool = True,
            cache_dir: Path | None = None, builder: Builder | None = None,
            progress: Progress | None = None, cache: Cache | None = None, memo: Memo | None = None) -> Preview:
    """Evaluate one stack offline: plan against the base revision and run the policy pack on every target.

    A repo that does not load gives a Preview holding its errors (every report format shows them); a base that
    cannot be had raises base.BaseError. A long-lived caller passes its own `cache` and loader `memo` to keep them
    in memory between previews.
    """
    with _few_collections():
        return _preview(root, stack_name, base, compare, cache_dir, builder, progress, cache, memo)


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Keep the garbage collector out of the way: a preview builds many long-lived objects and frees few.

    What is alive already (the imports, a resident process's caches) is frozen out of every collection, and young
    objects are collected every 50,000 allocations instead of 700; the thresholds are restored afterwards.
    """
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(50_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _preview(root: Path, stack_name: str, base: str | None, compare: bool, cache_dir: Path | None,
             builder: Builder | None, progress: Progress | None, cache: Cache | None, memo: Memo | None) -> Preview:
    started = time.perf_counter()
    build = builder  # None: the real program, built in a child process the gate's code is out of reach of
    cache, chash = cache.restart() if cache is not None else Cache(cache_dir), code_hash(CODE_ROOT)
    memo = memo or (Memo(cache) if cache.directory is not None else None)  # no cache, no memo: nothing to keep
    result = load_repo(root, memo)
    try:
        stack = result.require_valid().stack(stack_name)
        bad_records = import_records(result)  # a record the components could not honour: said by file and line
        if bad_records:
            raise SpecInvalid(bad_records)
    except SpecInvalid as exc:
        return Preview(stack_name, (), None, [], [], errors=list(exc.errors), head=head_state(result.root))
    rev = base_rev.resolve(result.root, base) if compare else None
    tick = progress or _quiet
    head = _slices(result, stack, commits(result.root, result.workflows), build, cache, chash, _phase(tick, "head"))
    rules = _rules(result, stack)
    wide = stack_wide(rules, head, pack.stack_contenders(result.workflows))
    diags = [(d, s) for s in head for d in s.diagnostics] + [(d, None) for d in wide]
    notes = [n for s in head for n in s.notes]
    found = _base(result, rev, stack_name, build, cache, chash, notes, _phase(tick, "base"), memo) if rev else None
    resources = _dedupe(r for s in head for r in s.resources)
    if cache.rejected:
        notes.append(f"{cache.rejected} cache entr{'y' if cache.rejected == 1 else 'ies'} failed verification "
                     "(planted, forged or corrupted) and were evaluated again")
    changes = with_live(diff(found.resources if found else [], resources),
                        imports.live_values(result.root, result.workflows, stack_name))
    out = Preview(stack_name, stack.enabled(), rev, changes,
                  _violations(result, diags, resources), [redact.scrub(n) for n in notes],  # errors may quote values
                  head=head_state(result.root), base_how=base_rev.describe(base) if rev else "",
                  off=dict(stack.switched_off))
    out.violations[:0] = _tampered(chash)
    out.files = {wf.name: wf.location.path for wf in result.workflows}
    out.workflow_changes = workflow_diffs(found.workflows if found else None, result.workflows)
    out.stack_change = stack_diff(found.stack if found else None, stack)
    out.stats = {"workflows": len(result.workflows), "resources": len(resources), "cache_hits": cache.hits,
                 "cache_misses": cache.misses, "cache_rejected": cache.rejected,
                 "seconds": round(time.perf_counter() - started, 3)}
    return out


def _quiet(_phase: str, _done: int, _total: int) -> None:
    return None


def _phase(tick: Progress, name: str) -> Callable[[int, int], None]:
    return lambda done, total: tick(name, done, total)


def _tampered(chash: str) -> list[Violation]:
    """Block when the gate's own files changed while the code under review ran (as this user, in child processes)."""
    if code_hash(CODE_ROOT) == chash:
        return []
    return [Violation("?", "?", "gate-integrity", "mandatory", True, TAMPERED, "Pulumi.yaml", 1, "")]


def _rules(result: LoadResult, stack: StackConfig) -> Rules:
    lib.provide(result, stack.name)
    return Rules.of(pack.POLICIES, pack.scope, {"repoRoot": str(result.root), "stack": stack.name})


def _slices(result: LoadResult, stack: StackConfig, commit_of: Callable[[Workflow], str], build: Builder | None,
            cache: Cache, chash: str, tick: Callable[[int, int], None] = lambda _d, _t: None) -> list[Slice]:
    found: list[Slice | None] = []
    todo: list[tuple[int, Workflow, str, str]] = []
    for wf in result.workflows:
        commit = commit_of(wf)
        k = key(chash, wf.digest, commit, repr(stack), imports.digest(result.root, wf.location.path))
        found.append(cache.get(k))
        if found[-1] is None:
            if not todo and build is None:
                isolate.warm()  # the program's imports (the provider SDKs) overlap the rest of the cache reads
            todo.append((len(found) - 1, wf, commit, k))
    total = len(result.workflows)
    if todo:
        tick(total - len(todo), total)
        made = _evaluate_all([(wf, commit) for _, wf, commit, _ in todo], stack, result.root, build,
                             _rules(result, stack))
        for (i, _wf, _commit, k), made_slice in zip(todo, made, strict=True):
            cache.put(k, made_slice)
            found[i] = made_slice
    tick(total, total)
    return [s for s in found if s is not None]


def _evaluate_all(items: Sequence[tuple[Workflow, str]], stack: StackConfig, root: Path, build: Builder | None,
                  rules: Rules) -> list[Slice]:
    """Capture each workflow (a target that cannot honour a field is left out, and reported), then judge it.

    Slices are judged here as the pool of child processes returns them, so this process works while they build.
    """
    plans = [_narrow(wf, stack) for wf, _ in items]
    built = [i for i, (_, narrowed) in enumerate(plans) if narrowed is not None]
    jobs = [isolate.Job(items[i][0], plans[i][1], items[i][1]) for i in built]  # type: ignore[arg-type]
    caps = isolate.capture_each(root, jobs) if build is None else (
        (k, _capture_here(build, j, root)) for k, j in enumerate(jobs))
    judged = {built[k]: _judge(items[built[k]][0], cap, rules, root, plans[built[k]][0]) for k, cap in caps}
    return [judged.get(i) or _judge(wf, None, rules, root, plans[i][0]) for i, (wf, _) in enumerate(items)]


def _narrow(wf: Workflow, stack: StackConfig) -> tuple[list[str], StackConfig | None]:
    """Return the notes on targets the program refuses, and the stack without them (None: nothing to build)."""
    targets = list(wf.targets_in(stack))
    refused = {t: fidelity.refusals(wf, stack, t) for t in targets}
    notes = [f"{stack.name}: the program refuses {wf.name} on {t}: {e.render()}"
             for t, errs in refused.items() for e in errs]
    narrowed = dataclasses.replace(stack, **{t: None for t, errs in refused.items() if errs})  # type: ignore[arg-type]
    return notes, (narrowed if any(t in narrowed.enabled() for t in targets) else None)


def _capture_here(build: Builder, job: isolate.Job, root: Path) -> Capture | str:
    """Capture with a caller's builder, in this process (tests that inject a program)."""
    try:
        return run_capture(lambda: _ignore(build(job.workflow, job.stack, root, job.commit)), job.stack.name)
    except Exception as exc:  # the program's own failure blocks the gate; it must never pass silently
        return str(exc)


def _judge(wf: Workflow, cap: Capture | str | None, rules: Rules, root: Path, notes: list[str]) -> Slice:
    if cap is None:  # nothing to build: the rules still judge it
        return evaluate(wf.name, Capture(), rules, root, notes)
    if isinstance(cap, str):
        failed = evaluate(wf.name, Capture(), rules, root, notes)
        diag = Diagnostic("program", "mandatory", "", f"the program failed\n{lib.say('?', wf.name, 'name', cap)}",
                          True)
        return dataclasses.replace(failed, diagnostics=(diag, *failed.diagnostics))
    return evaluate(wf.name, cap, rules, root, notes)


def _ignore(_value: object) -> None:
    return None


@dataclass(frozen=True)
class Base:
    """What the base revision holds for this stack: its resources, its workflows and its stack config."""

    resources: list[Resource]
    workflows: tuple[Workflow, ...] | None
    stack: StackConfig | None


def _base(head: LoadResult, rev: str, stack_name: str, build: Builder | None, cache: Cache, chash: str,
          notes: list[str], tick: Callable[[int, int], None], memo: Memo | None = None) -> Base:
    root = head.root
    changed = base_rev.changed_paths(root, rev)
    at_base = base_rev.files_at(root, rev, WORKFLOW_DIR)
    reused = [wf for wf in head.workflows if wf.location.path in at_base and not _touched(wf, changed)]
    keep = at_base - {wf.location.path for wf in reused}
    if any(p.startswith("Pulumi.") or not _owned(p, head.workflows) for p in changed):
        reused, keep = [], at_base  # a stack file or a module workflows import changed: load the whole base
    with tempfile.TemporaryDirectory(prefix="lockstep-base-") as tmp:
        loaded = head
        if keep or not reused:
            loaded = _load_base(head, rev, Path(tmp), keep, memo)
            if stack_name not in {s.name for s in loaded.stacks} or (loaded.errors and keep):
                notes.append(f"the base revision {rev[:12]} does not load (or lacks stack {stack_name!r}); every "
                             "resource shows as a create")
                return Base([], None, None)
        workflows = (*reused, *(loaded.workflows if keep else ()))
        result = dataclasses.replace(loaded, workflows=workflows, errors=())
        commit_of = commits(root, workflows, rev, dirty_check=False)
        stack = result.stack(stack_name)
        slices = _slices(result, stack, commit_of, build, cache, chash, tick)
    return Base(_dedupe(r for s in slices for r in s.resources), workflows, stack)


def _load_base(head: LoadResult, rev: str, tmp: Path, keep: set[str], memo: Memo | None) -> LoadResult:
    """Load the base's workflows in `keep` from the blobs the loader reads; from every file if they need more."""
    inside = WORKFLOW_DIR + "/"
    extra = tuple(sorted({wf.function.source for wf in head.workflows if not wf.function.source.startswith(inside)}))
    loaded = load_repo(base_rev.materialize(head.root, rev, tmp, WORKFLOW_DIR, keep, extra), memo)
    if any(e.field.startswith("function.") for e in loaded.errors):  # a base function tree the head does not name
        loaded = load_repo(base_rev.materialize(head.root, rev, tmp, WORKFLOW_DIR, keep, None), memo)
    return loaded


def _touched(wf: Workflow, changed: set[str]) -> bool:
    source = wf.function.source.rstrip("/") + "/"
    return (wf.location.path in changed or imports.record_path(wf.location.path) in changed
            or any(p.startswith(source) for p in changed))


def _owned(path: str, workflows: Sequence[Workflow]) -> bool:
    """Tell whether a changed path affects at most its own workflow (not a helper that workflow files import)."""
    parts = path.split("/")
    if parts[0] != WORKFLOW_DIR or not path.endswith(".py"):
        return True
    if len(parts) == 2:
        return not parts[1].startswith("_")
    return any(path.startswith(wf.function.source.rstrip("/") + "/") for wf in workflows)


def _dedupe(resources: Any) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for r in resources:
        seen.setdefault(r.urn, r)
    return list(seen.values())


def _violations(result: LoadResult, diags: Sequence[tuple[Diagnostic, Slice | None]],
                resources: Sequence[Resource]) -> list[Violation]:
    by_name = {wf.name: wf for wf in result.workflows}
    owner = {r.urn: r for r in resources}
    out = []
    for d, s in diags:
        text = d.message.split("\n", 1)[-1]
        target, workflow, fld = lib.parse(text) or ("?", "?", "")
        text = text.split(": ", 1)[1] if lib.parse(text) else text  # target and workflow have their own columns
        res = owner.get(d.urn)
        if workflow == "?":
            workflow = (res.workflow if res else "") or (s.workflow if s else "") or "?"
        if target == "?" and res is not None:
            target = res.target
        wf = by_name.get(workflow)
        path, line = (wf.location.path, wf.line_of(_source_field(fld))) if wf else ("Pulumi.yaml", 1)
        out.append(Violation(target, workflow, d.policy, d.level, d.blocking, redact.scrub(text), path, line, d.urn))
    out.sort(key=lambda v: (not v.blocking, v.path, v.line, v.target, v.rule, v.workflow, v.message, v.urn))
    return out


def _source_field(name: str) -> str:
    mapped = fidelity.SOURCE_FIELD.get(name, name)
    return {"access": "targets", "stamps": "name", "digest": "name", "function": "function.source"}.get(mapped, mapped)
