"""Markdown for one PR comment: verdict first, what changed in the workflows and the stack, the per-target plan,
violations, then the resources by workflow and target; always under GitHub's size limit."""

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
from infra.preflight.run import Preview

LIMIT = 65_000  # GitHub rejects comments over 65,536 characters
MARKER = "<!-- lockstep-preview -->"  # lets the workflow find and update its own comment


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(p: Preview, limit: int = LIMIT) -> str:
    """Render the preview; when too long, drop whole rows from the end and say how many were left out."""
    icon = "❌" if p.blocked else "✅"
    head = [MARKER, f"### {icon} lockstep preview — `{p.stack}`", "", f"**{verdict(p)}**", ""]
    head += [f"- {_cell(line)}" for line in header(p)]
    if p.cannot_run:
        return _fit(head, [], limit)
    if p.errors:
        errors = ["", "#### Errors: the repository does not load, so nothing was previewed", "",
                "| where | field | problem |", "|---|---|---|"]
        errors += [f"| `{e.path}:{e.line}` | `{_cell(e.field)}` | {_cell(e.render().split(': ', 2)[-1])} |"
                   for e in p.errors]
        return _fit(head, errors, limit)
    head += _field_diffs(p)
    table = counts(p.changes)
    ops = columns(table)
    head += ["", "| target | " + " | ".join(ops) + " |", "|---|" + "---:|" * len(ops)]
    for target in p.rows():
        row = table.get(target, dict.fromkeys(OPS, 0))
        head.append(f"| {row_label(p, target)} | " + " | ".join(str(row[op]) for op in ops) + " |")
    body: list[str] = []
    if p.violations:
        body += ["", "#### Violations", "", "| | target | workflow | rule | where | message |",
                 "|---|---|---|---|---|---|"]
        body += [f"| {'🛑' if v.blocking else '⚠️'} | {v.target} | {_cell(v.workflow)} | {v.rule} | "
                 f"`{v.path}:{v.line}` | {_cell(v.message)} |" for v in p.violations]
    body += _resources(p)
    if p.notes:
        body += ["", "#### Notes", ""] + [f"- {_cell(n)}" for n in p.notes]
    return _fit(head, body, limit)


def _field_diffs(p: Preview) -> list[str]:
    out: list[str] = []
    diffs = [*p.workflow_changes, *([p.stack_change] if p.stack_change else [])]
    if not diffs:
        return out
    out += ["", "#### What changed (base → head)", "", "| workflow / stack | field | base | head |",
            "|---|---|---|---|"]
    for d in diffs:
        label = f"{d.name} (`{d.path}`)"
        if d.op != "update":
            out.append(f"| {_cell(label)} | *{d.op}d* | | |")
            continue
        out += [f"| {_cell(label)} | `{_cell(path)}` | {_code(old)} | {_code(new)} |" for path, old, new in d.fields]
    return out


def _code(value: str | None) -> str:
    return "*(unset)*" if value is None else f"`{_cell(value)}`"


def _resources(p: Preview) -> list[str]:
    found = groups(p.changes)
    if not found:
        return []
    out = ["", "<details><summary>Resources by workflow and target (base → head)</summary>", ""]
    for g in found:
        pairs = group_pairs(g)
        out += [f"**{_cell(g.workflow)} on {g.target}**: {tally(g)}", ""]
        if pairs:
            out += ["stamps: " + ", ".join(f"`{a}` → `{b}`" for a, b in pairs.items()), ""]
        for why, items in runs(g.shown):
            out.append(f"- {_cell(run_title(why, items))}")
            for c in items:
                if len(items) > 1:
                    out.append(f"  - `{c.resource.type}` {_cell(c.resource.name)}")
                pad = "  " if len(items) == 1 else "    "
                out += [f"{pad}- `{_cell(line)}`" for line in leaf_lines(c, pairs)]
        if g.stamps_only:
            out.append(f"- {len(g.stamps_only)} update(s) only restamp the digest/commit: "
                       + _cell(", ".join(c.resource.name for c in g.stamps_only)))
        out.append("")
    return [*out, "</details>"]


def _fit(head: list[str], body: list[str], limit: int) -> str:
    text = "\n".join(head + body)
    if len(text) <= limit:
        return text
    kept, size = list(head), len("\n".join(head)) + 200
    for i, line in enumerate(body):
        if size + len(line) + 1 > limit:
            kept += ["", f"_… {len(body) - i} more line(s) left out to fit one comment; run `lockstep preview "
                     "--format json` or see the SARIF annotations for everything._"]
            if any(line.startswith("<details>") for line in kept) and "</details>" not in kept:
                kept.append("</details>")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
