"""The inventory a successful validation prints: every workflow against every target and stack."""

from __future__ import annotations

from infra.loader import LoadResult
from infra.model import TARGETS, StackConfig


def inventory(result: LoadResult) -> dict[str, object]:
    """Return the inventory as JSON-ready data."""
    return {
        "workflows": [
            {"name": w.name, "file": f"{w.location.path}:{w.location.line}", "schedule": w.schedule.expression,
             "kind": w.schedule.kind, "timezone": w.schedule.timezone, "digest": w.digest,
             "targets": list(w.target_names()),
             "stacks": {s.name: list(w.targets_in(s)) for s in result.stacks}}
            for w in result.workflows
        ],
        "stacks": [{"name": s.name, "file": s.path, "targets": list(s.enabled()), "waves": [list(w) for w in s.waves]}
                   for s in result.stacks],
    }


def render_inventory(result: LoadResult) -> str:
    """Render the inventory as a table a person reads in a terminal."""
    names = [w.name for w in result.workflows] or ["-"]
    width = max(len("workflow"), *(len(n) for n in names))
    sched_w = max(len("schedule"), *(len(_sched(w.schedule.kind, w.schedule.expression)) for w in result.workflows))
    zone_w = max(len("zone"), *(len(w.schedule.timezone) for w in result.workflows))
    head = f"{'workflow':<{width}}  {'schedule':<{sched_w}}  {'zone':<{zone_w}}  " + \
        "  ".join(f"{t:<6}" for t in TARGETS) + "  digest"
    rows = [head, "-" * len(head)]
    for w in result.workflows:
        cells = "  ".join(f"{('x' if w.target(t) else '-'):<6}" for t in TARGETS)
        rows.append(f"{w.name:<{width}}  {_sched(w.schedule.kind, w.schedule.expression):<{sched_w}}  "
                    f"{w.schedule.timezone:<{zone_w}}  {cells}  {w.digest[:12]}")
    rows.append("")
    rows.extend(_stack_line(s) for s in result.stacks)
    return "\n".join(rows)


def _sched(kind: str, expression: str) -> str:
    return expression if kind == "cron" else f"rate({expression})"


def _stack_line(s: StackConfig) -> str:
    parts = []
    if s.aws:
        parts.append(f"aws {s.aws.region}")
    if s.azure:
        parts.append(f"azure {s.azure.location} {s.azure.plan}/{s.azure.os}")
    if s.gcp:
        parts.append(f"gcp {s.gcp.project} {s.gcp.region}")
    if s.onprem:
        parts.append(f"onprem {', '.join(h.name for h in s.onprem.hosts)}")
    waves = " -> ".join("[" + ", ".join(w) + "]" for w in s.waves)
    return f"stack {s.name} ({s.path}): {'; '.join(parts)}; waves {waves}"
