"""Plain-text report for a terminal: what changed in the workflows and the stack, the per-target plan, the
resources by workflow and target with old -> new values, every violation with file:line, then the verdict."""

from __future__ import annotations

from infra.preflight.plan import OPS, columns, counts
from infra.preflight.report_common import (
    group_pairs,
    groups,
    header,
    leaf_lines,
    row_label,
    run_title,
    runs,
    tally,
    verdict,
)
from infra.preflight.review import FieldDiff
from infra.preflight.run import Preview

MAX_CHANGES = 200

__all__ = ["render", "verdict"]


def render(p: Preview) -> str:
    """Render the preview as aligned text."""
    lines = [f"lockstep preview — stack {p.stack}", *header(p)]
    if p.cannot_run:
        return "\n".join([*lines, "", verdict(p)])
    if p.errors:
        lines += ["", "errors (the repository does not load, so nothing was previewed):"]
        lines += [f"  {e.render()}" for e in p.errors]
        return "\n".join([*lines, "", verdict(p)])
    lines += _field_diffs(p)
    table = counts(p.changes)
    ops = columns(table)
    lines += ["", f"{'target':<13}" + " ".join(f"{op:>7}" for op in ops)]
    for target in p.rows():
        row = table.get(target, dict.fromkeys(OPS, 0))
        lines.append(f"{row_label(p, target):<13}" + " ".join(f"{row[op]:>7}" for op in ops))
    lines += _resources(p)
    if p.violations:
        lines += ["", "violations:"]
        for v in p.violations:
            lines.append(f"  {v.path}:{v.line}: [{v.level}] {v.rule} [{v.target}] {v.workflow}: {v.message}")
    if p.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in p.notes]
    return "\n".join([*lines, "", verdict(p)])


def _field_diffs(p: Preview) -> list[str]:
    out: list[str] = []
    if p.workflow_changes:
        out += ["", "workflows (canonical fields and targets, base → head):"]
        for d in p.workflow_changes:
            out += [f"  {d.op} {d.name} ({d.path})", *_fields(d)]
    if p.stack_change:
        out += ["", f"stack {p.stack_change.path} (base → head):", *_fields(p.stack_change)]
    return out


def _fields(d: FieldDiff) -> list[str]:
    if d.op != "update":
        return []
    return [f"      {path}: {old if old is not None else '(unset)'} → {new if new is not None else '(unset)'}"
            for path, old, new in d.fields]


def _resources(p: Preview) -> list[str]:
    out: list[str] = []
    found = groups(p.changes)
    total, shown = sum(len(g.shown) for g in found), 0
    for g in found:
        if not out:
            out += ["", "resources by workflow and target (base → head):"]
        out.append(f"  {g.workflow} on {g.target}: {tally(g)}")
        pairs = group_pairs(g)
        if pairs:
            out.append("    stamps: " + ", ".join(f"{a} → {b}" for a, b in pairs.items()))
        for why, items in runs(g.shown[:max(MAX_CHANGES - shown, 0)]):
            out.append(f"    {run_title(why, items)}")
            indent = "        " if len(items) == 1 else "          "
            for c in items:
                if len(items) > 1:
                    out.append(f"      {c.resource.type} {c.resource.name}")
                out += [f"{indent}{line}" for line in leaf_lines(c, pairs)]
        shown += len(g.shown)
        if g.stamps_only:
            names = ", ".join(c.resource.name for c in g.stamps_only)
            out.append(f"    {len(g.stamps_only)} update(s) only restamp the digest/commit: {names}")
    if total > MAX_CHANGES:
        out.append(f"  ... {total - MAX_CHANGES} more change(s) not shown in full (use --format json for all)")
    return out
