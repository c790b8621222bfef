"""Load a repository: every workflow under workflows/ and every stack file, with every error at once."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from infra import isolated
from infra.config import load_stack, switched_off_errors
from infra.errors import SpecError, SpecInvalid
from infra.fields import Reporter
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

    def stack(self, name: str) -> StackConfig:
        """Return the named stack, or raise SpecInvalid if it does not exist or is invalid."""
        for s in self.stacks:
            if s.name == name:
                return s
        raise SpecInvalid([SpecError(f"Pulumi.{name}.yaml", 1, "stack", name, "is not a valid stack of this repo",
                                     f"use one of: {', '.join(s.name for s in self.stacks) or '(none)'}")])

    def require_valid(self) -> LoadResult:
        """Raise SpecInvalid carrying every error, if there is any."""
        if self.errors:
            raise SpecInvalid(self.errors)
        return self


def load_repo(root: Path) -> LoadResult:
    """Load and validate every workflow and stack under root."""
    root = root.resolve()
    errors: list[SpecError] = []
    workflows: list[Workflow] = []
    wf_dir = root / WORKFLOW_DIR
    files = sorted(p for p in wf_dir.glob("*.py") if not p.name.startswith("_")) if wf_dir.is_dir() else []
    if not files:
        errors.append(SpecError(WORKFLOW_DIR, 1, "workflows", str(wf_dir), "holds no workflow files",
                                "add workflows/<name>.py declaring workflow(...)"))
    parsed = {path: _parse(path, root) for path in files}
    executed = isolated.execute_files([p for p, (tree, _) in parsed.items() if tree is not None])
    for path, (tree, errs) in parsed.items():
        found, errs = _declared(path, root, tree, executed[path]) if tree is not None else ([], errs)
        workflows.extend(found)
        errors.extend(errs)
    errors.extend(_duplicates(workflows))
    errors.extend(_overlaps(workflows))
    stacks: list[StackConfig] = []
    for path in sorted(root.glob("Pulumi.*.yaml")):
        stack, errs = load_stack(path, path.name, path.name[len("Pulumi."):-len(".yaml")])
        errors.extend(errs)
        if stack:
            stacks.append(stack)
    for stack in stacks:
        errors.extend(_against_stack(workflows, stack))
    errors.sort(key=lambda e: (e.path, e.line, e.field))
    return LoadResult(root, tuple(workflows), tuple(stacks), tuple(errors))


def _parse(path: Path, root: Path) -> tuple[ast.Module | None, list[SpecError]]:
    """Read and parse a workflow file here (parsing runs none of it); report what stops it from loading."""
    rel = path.relative_to(root).as_posix()
    try:
        source = path.read_text(encoding="utf-8")
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


def _declared(path: Path, root: Path, tree: ast.Module,
              loaded: isolated.Loaded) -> tuple[list[Workflow], list[SpecError]]:
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
        wf = build_workflow(decl, rel, root, rep.lines, rep)
        errors.extend(rep.errors)
        if wf:
            out.append(wf)
    return out, errors


def _duplicates(workflows: list[Workflow]) -> list[SpecError]:
    seen: dict[str, Workflow] = {}
    errors = []
    for wf in workflows:
        first = seen.setdefault(wf.name, wf)
        if first is not wf:
            errors.append(SpecError(wf.location.path, wf.line_of("name"), "name", wf.name,
                                    f"is already used by {first.location.path}:{first.line_of('name')}",
                                    "give every workflow its own name"))
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


def _against_stack(workflows: list[Workflow], stack: StackConfig) -> list[SpecError]:
    declared = {t: [wf.name for wf in workflows if wf.target(t)] for t in TARGETS}
    errors = switched_off_errors(declared, stack)
    for wf in workflows:
        host = wf.local("onprem", "host")
        if wf.target("onprem") and stack.onprem and host is not None and stack.onprem.host(str(host)) is None:
            names = ", ".join(h.name for h in stack.onprem.hosts)
            errors.append(SpecError(wf.location.path, wf.line_of("targets.onprem.host"), "targets.onprem.host", host,
                                    f"is not a host of stack {stack.name!r} ({stack.path})",
                                    f"use one of: {names}, or add the host to {stack.path}"))
    return errors
