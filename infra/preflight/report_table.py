"""Plain-text report for a terminal: per-target plan, then every violation with file:line, then the verdict."""

from __future__ import annotations

from infra.preflight.plan import OPS, counts
from infra.preflight.run import Preview


def verdict(p: Preview) -> str:
    """Return the one-line verdict over every target."""
    blocking = [v for v in p.violations if v.blocking]
    if not blocking:
        return f"PASS: every policy passes on every target of stack {p.stack} ({', '.join(p.targets)})"
    failed = sorted({v.target for v in blocking})
    return (f"BLOCKED: {len(blocking)} mandatory violation(s) on {', '.join(failed)}; nothing in stack {p.stack} "
            "counts as validated until every target passes")


def render(p: Preview) -> str:
    """Render the preview as aligned text."""
    lines = [f"lockstep preview — stack {p.stack}, base {p.base[:12] if p.base else '(none)'}", ""]
    lines.append(f"{'target':<8} " + " ".join(f"{op:>7}" for op in OPS))
    table = counts(p.changes)
    for target in p.targets:
        row = table.get(target, dict.fromkeys(OPS, 0))
        lines.append(f"{target:<8} " + " ".join(f"{row[op]:>7}" for op in OPS))
    changed = [c for c in p.changes if c.op != "same" and c.resource.custom]
    if changed:
        lines += ["", "changes:"]
        lines += [f"  {c.op:<6} [{c.resource.target}] {c.resource.type} {c.resource.name}"
                  + (f" ({', '.join(c.keys)})" if c.keys else "") for c in changed[:200]]
        if len(changed) > 200:
            lines.append(f"  ... and {len(changed) - 200} more (use --format json for all)")
    if p.violations:
        lines += ["", "violations:"]
        for v in p.violations:
            lines.append(f"  {v.path}:{v.line}: [{v.level}] {v.rule} [{v.target}] {v.workflow}: {v.message}")
    if p.notes:
        lines += ["", "notes:"] + [f"  {n}" for n in p.notes]
    lines += ["", verdict(p)]
    return "\n".join(lines)
