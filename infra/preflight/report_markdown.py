"""Markdown for one PR comment: verdict first, per-target plan, violations; always under GitHub's size limit."""

from __future__ import annotations

from infra.preflight.plan import OPS, counts
from infra.preflight.report_table import verdict
from infra.preflight.run import Preview

LIMIT = 65_000  # GitHub rejects comments over 65,536 characters
MARKER = "<!-- lockstep-preview -->"  # lets the workflow find and update its own comment


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(p: Preview, limit: int = LIMIT) -> str:
    """Render the preview; when too long, drop whole rows from the end and say how many were left out."""
    icon = "❌" if p.blocked else "✅"
    head = [MARKER, f"### {icon} lockstep preview — `{p.stack}`", "", f"**{verdict(p)}**", "",
            "| target | " + " | ".join(OPS) + " |", "|---|" + "---:|" * len(OPS)]
    table = counts(p.changes)
    for target in p.targets:
        row = table.get(target, dict.fromkeys(OPS, 0))
        head.append(f"| {target} | " + " | ".join(str(row[op]) for op in OPS) + " |")
    body: list[str] = []
    if p.violations:
        body += ["", "#### Violations", "", "| | target | workflow | rule | where | message |",
                 "|---|---|---|---|---|---|"]
        body += [f"| {'🛑' if v.blocking else '⚠️'} | {v.target} | {_cell(v.workflow)} | {v.rule} | "
                 f"`{v.path}:{v.line}` | {_cell(v.message)} |" for v in p.violations]
    changed = [c for c in p.changes if c.op != "same" and c.resource.custom]
    if changed:
        body += ["", "<details><summary>Changes</summary>", "", "| op | target | type | name | keys |",
                 "|---|---|---|---|---|"]
        body += [f"| {c.op} | {c.resource.target} | `{c.resource.type}` | {_cell(c.resource.name)} | "
                 f"{_cell(', '.join(c.keys))} |" for c in changed]
        body += ["", "</details>"]
    if p.notes:
        body += ["", "#### Notes", ""] + [f"- {_cell(n)}" for n in p.notes]
    return _fit(head, body, limit)


def _fit(head: list[str], body: list[str], limit: int) -> str:
    text = "\n".join(head + body)
    if len(text) <= limit:
        return text
    kept, size = list(head), len("\n".join(head)) + 200
    for i, line in enumerate(body):
        if size + len(line) + 1 > limit:
            kept += ["", f"_… {len(body) - i} more line(s) left out to fit one comment; run `lockstep preview "
                     "--format json` or see the SARIF annotations for everything._"]
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)
