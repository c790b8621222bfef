"""Load a repository: every workflow under workflows/ and every stack file, with every error at once."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from infra import hosts, isolated
from infra.config import load_stack, switched_off_errors
from infra.errors import SpecError, SpecInvalid, UsageError
from infra.fields import Reporter
from infra.gitinfo import changed_paths, changed_since_main
from infra.horizon import Horizon
from infra.loadmemo import FileResult, Memo
from infra.model import TARGETS, StackConfig, Workflow
from infra.schedule.canonical import parse_cron
from infra.sourcemap import field_lines
from infra.validate import build_workflow

WORKFLOW_DIR = "workflows"


@dataclass(frozen=True)
class LoadResult:
    """What a load found: the valid workflows and stacks, and every error."""

    root: Path
    workflows: tuple[Workflow, ...]
    stacks: tuple[StackConfig, ...]
    errors: tuple[SpecError, ...] = field(default=())
    warnings: tuple[SpecError, ...] = field(default=())
    # Schedule-only stand-ins of declarations whose other fields are wrong: judged for equivalence, never deployed.
    partial: tuple[Workflow, ...] = field(default=())
    # (workflow, stack) pairs the loader found unusable, e.g. an on-prem host the stack lacks: later checks skip them.
    blocked: frozenset[tuple[str, str]] = field(default=frozenset())
    stack_files: tuple[str, ...] = field(default=())  # every Pulumi.<stack>.yaml found, valid or not
    skipped: tuple[str, ...] = field(default=())  # checks that could not run, each with its reason
    horizon: Horizon | None = None  # the equivalence horizon, once schedules were checked

    def stack(self, name: str) -> StackConfig:
        """Return the named stack, or raise SpecInvalid if it does not exist or is invalid."""
        for s in self.stacks:
            if s.name == name:
                return s
        if f"Pulumi.{name}.yaml" in self.stack_files:
            raise SpecInvalid([e for e in self.errors if e.path == f"Pulumi.{name}.yaml"])
        known = ", ".join(f.removeprefix("Pulumi.").removesuffix(".yaml") for f in self.stack_files) or "(none)"
        raise UsageError(f"stack {name!r}: there is no Pulumi.{name}.yaml in {self.root}; stacks here: {known}")

    def require_valid(self) -> LoadResult:
        """Raise SpecInvalid carrying every error, if there is any."""
        if self.errors:
            raise SpecInvalid(self.errors)
        return self


def load_repo(root: Path, memo: Memo | None = None) -> LoadResult:
    """Load and validate every workflow and stack under root (files whose result `memo` holds are not run again)."""
    root = root.resolve()
    errors: list[SpecError] = []
    warnings: list[SpecError] = []
    workflows: list[Workflow] = []
    partial: list[Workflow] = []
    wf_dir = root / WORKFLOW_DIR
    files = sorted(p for p in wf_dir.glob("*.py") if not p.name.startswith("_")) if wf_dir.is_dir() else []
    if not files:
        errors.append(SpecError(WORKFLOW_DIR, 1, "workflows", str(wf_dir), "holds no workflow files",
                                "add workflows/<name>.py declaring workflow(...)"))
    for one in _load_files(files, root, memo):
        workflows.extend(one.workflows)
        errors.extend(one.errors)
        warnings.extend(one.warnings)
        partial.extend(one.partial)
    errors.extend(_duplicates(workflows, root))
    errors.extend(_overlaps(workflows))
    stacks: list[StackConfig] = []
    stack_paths = sorted(root.glob("Pulumi.*.yaml"))
    for path in stack_paths:
        stack, errs = load_stack(path, path.name, path.name[len("Pulumi."):-len(".yaml")], warnings)
        errors.extend(errs)
        if stack:
            stacks.append(stack)
    names = {p.name[len("Pulumi."):-len(".yaml")] for p in stack_paths}
    blocked: set[tuple[str, str]] = set()
    for stack in stacks:
        errors.extend(_switched_off(workflows, stack))
    for wf in (*workflows, *partial):
        errors.extend(hosts.check(wf, stacks, names, blocked, warnings))
    errors.sort(key=lambda e: (e.path, e.line, e.field))
    warnings.sort(key=lambda e: (e.path, e.line, e.field))
    return LoadResult(root, tuple(workflows), tuple(stacks), tuple(errors), tuple(warnings), tuple(partial),
                      frozenset(blocked), tuple(p.name for p in stack_paths))


def _load_files(files: list[Path], root: Path, memo: Memo | None) -> list[FileResult]:
    """Load each workflow file: from the memo when its bytes and what it read are unchanged, else run and check it."""
    raw = {path: _bytes(path) if memo is not None else None for path in files}
    if memo is not None:
        memo.begin()
    found = {p: memo.lookup(p.relative_to(root).as_posix(), b, root) for p, b in raw.items()
             if b is not None and memo is not None}
    parsed = {path: _parse(path, root) for path in files if found.get(path) is None}
    executed = isolated.execute_files([p for p, (tree, _) in parsed.items() if tree is not None])
    out = []
    for path in files:
        hit = found.get(path)
        if hit is not None:
            out.append(hit)
            continue
        tree, errs = parsed[path]
        warnings: list[SpecError] = []
        partial: list[Workflow] = []
        wfs, errs = (_declared(path, root, tree, executed[path], warnings, partial) if tree is not None
                     else ([], errs))
        one = FileResult(tuple(wfs), tuple(errs), tuple(warnings), tuple(partial))
        data = raw[path]
        if memo is not None and tree is not None and data is not None and not executed[path].error:
            _remember(memo, path, data, root, one, executed[path])
        out.append(one)
    if memo is not None:
        memo.save()
    return out


def _remember(memo: Memo, path: Path, data: bytes, root: Path, one: FileResult, loaded: isolated.Loaded) -> None:
    if _bytes(path) != data:  # saved again while it loaded: this result may be of other bytes than the key's
        return
    try:
        helpers, sources = _helpers(loaded, root), _sources(loaded, root)
    except (ValueError, OSError):  # it read something outside the repository: never remembered
        return
    memo.record(path.relative_to(root).as_posix(), data, root, one, helpers, sources)


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _helpers(loaded: isolated.Loaded, root: Path) -> list[str]:
    """Return the repo-relative helper files the file imported while it ran (the child reports them)."""
    return sorted(Path(p).resolve().relative_to(root).as_posix() for p in loaded.imports)


def _sources(loaded: isolated.Loaded, root: Path) -> list[str]:
    """Return the repo-relative function directories the file's declarations name (whether they exist or not)."""
    out = set()
    for decl in loaded.declarations:
        fn = decl.args.get("function")
        source = fn.get("source") if isinstance(fn, dict) else None
        if isinstance(source, str):
            out.add((Path(decl.path).parent / source).resolve().relative_to(root).as_posix())
    return sorted(out)


def _parse(path: Path, root: Path) -> tuple[ast.Module | None, list[SpecError]]:
    """Read and parse a workflow file here (parsing runs none of it); report what stops it from loading."""
    rel = path.relative_to(root).as_posix()
    try:
        source = path.read_text(encoding="utf-8-sig")  # Python itself accepts a leading BOM
    except (OSError, UnicodeDecodeError) as exc:
        return None, [SpecError(rel, 1, "(file)", type(exc).__name__, f"cannot be read as UTF-8 text: {exc}",
                                "save the file as UTF-8")]
    try:
        tree = ast.parse(source, str(path))
        compile(tree, str(path), "exec")  # a few errors (e.g. 'return' outside a function) show only here
    except SyntaxError as exc:
        return None, [SpecError(rel, exc.lineno or 1, "(syntax)", (exc.text or "").strip(), f"is not valid Python: "
                                f"{exc.msg}", "fix the syntax at this line")]
    return tree, []


def _declared(path: Path, root: Path, tree: ast.Module, loaded: isolated.Loaded, warnings: list[SpecError],
              partial: list[Workflow]) -> tuple[list[Workflow], list[SpecError]]:
    """Validate what a file declared (it ran in the loader's child process, never in this one)."""
    rel = path.relative_to(root).as_posix()
    if loaded.error:
        return [], [SpecError(rel, loaded.error_line, "(module)", loaded.error, "raised while loading",
                              "fix the code at this line; workflow files should only declare workflows")]
    if not loaded.declarations:
        return [], [SpecError(rel, 1, "workflow", None, "declares no workflow", "call workflow(...) in this file, or "
                              "prefix the file name with '_' if it only holds helpers")]
    out, errors = [], []
    for decl in loaded.declarations:
        rep = Reporter(rel, field_lines(tree, decl.line) if decl.path == str(path) else {}, decl.line)
        wf = build_workflow(decl, rel, root, rep.lines, rep, partial)
        errors.extend(rep.errors)
        warnings.extend(rep.warnings)
        if wf:
            out.append(wf)
    return out, errors


def _duplicates(workflows: list[Workflow], root: Path) -> list[SpecError]:
    """Report a reused name once, on the declaration that is new: uncommitted while the other is committed."""
    groups: dict[str, list[Workflow]] = {}
    for wf in workflows:
        groups.setdefault(wf.name, []).append(wf)
    twins = [group for group in groups.values() if len(group) > 1]
    if not twins:
        return []
    changed = (changed_paths(root) or set()) | changed_since_main(root)  # new on this branch, or not committed
    errors: list[SpecError] = []
    for group in twins:
        # Committed declarations first: they were there before, so the others are the ones that reuse the name.
        ordered = sorted(group, key=lambda wf: wf.location.path in changed)
        first = ordered[0]
        errors.extend(SpecError(wf.location.path, wf.line_of("name"), "name", wf.name,
                                f"is already used by {first.location.path}:{first.line_of('name')}",
                                "give every workflow its own name") for wf in ordered[1:])
    return errors


def _schedule_key(wf: Workflow) -> tuple[object, ...]:
    s = wf.schedule
    shape: object = parse_cron(s.expression).key() if s.kind == "cron" else s.expression
    return (s.kind, shape, s.timezone, s.start, s.end)


def _overlaps(workflows: list[Workflow]) -> list[SpecError]:
    seen: dict[tuple[object, ...], Workflow] = {}
    errors = []
    for wf in workflows:
        key = (_schedule_key(wf), wf.code_digest, wf.function.entry)
        first = seen.setdefault(key, wf)
        if first is not wf and first.name != wf.name:
            errors.append(SpecError(
                wf.location.path, wf.line_of("schedule"), "schedule", wf.schedule.expression,
                f"overlaps workflow {first.name!r} ({first.location.path}:{first.location.line}): same schedule and "
                "the same code, so the job would run twice at every instant",
                f"remove one of them, or change what {wf.name!r} runs"))
    return errors


def _switched_off(workflows: list[Workflow], stack: StackConfig) -> list[SpecError]:
    declared = {t: [wf.name for wf in workflows if wf.target(t)] for t in TARGETS}
    return switched_off_errors(declared, stack)
