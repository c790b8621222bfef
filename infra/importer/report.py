"""Render the import inventory and its overlap as a table, JSON or Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable

from infra.importer.discover import Inventory, Item
from infra.importer.overlap import Overlap


def _schedule(i: Item) -> str:
    tz = i.found.timezone or "UTC"
    return f"{i.found.expression} [{tz}]" if i.found.expression else "-"


def _status(i: Item) -> str:
    if i.reason:
        return f"not a workflow: {i.reason}"
    s = i.schedule
    assert s is not None
    canonical = f"{s.kind}({s.expression!r}, tz={s.timezone!r})"
    return canonical + (f" · Lockstep {i.found.managed!r}" if i.found.managed else " · unmanaged")


def figure(ov: Overlap) -> str:
    """Return the share-of-overlap line."""
    exact = sum(len(g.members) for g in ov.groups if g.kind == "exact")
    return (f"overlap: {ov.overlapping} of {ov.total} workflows ({ov.share:.0%}) duplicate another — {exact} in "
            f"{sum(g.kind == 'exact' for g in ov.groups)} exact group(s), {ov.overlapping - exact} near; "
            f"retiring the exact copies removes {ov.exact_extra()}")


def table(inv: Inventory, ov: Overlap) -> str:
    """Return the plain-text report."""
    rows = [(i.key, _schedule(i), i.found.calls or "-", _status(i)) for i in inv.items]
    widths = [max([len(h)] + [len(r[c]) for r in rows]) for c, h in enumerate(("WORKFLOW", "SCHEDULE", "CALLS"))]
    out = ["  ".join(h.ljust(w) for h, w in zip(("WORKFLOW", "SCHEDULE", "CALLS"), widths, strict=True)) + "  STATUS"]
    out += ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3] for r in rows]
    out.append(f"\n{len(inv.items)} schedule(s) found, {ov.total} representable as workflows")
    for g in ov.groups:
        out.append(f"\n{g.kind} duplicates: {', '.join(g.members)}\n  keep {g.keep} ({g.why})")
    out.append(f"\nunique: {len(ov.unique)}")
    out.append(figure(ov))
    out += [f"error: {e}" for e in inv.errors]
    return "\n".join(out) + "\n"


def as_json(inv: Inventory, ov: Overlap) -> str:
    """Return the report as JSON."""
    def item(i: Item) -> dict[str, object]:
        f = i.found
        return {"key": i.key, "target": f.target, "place": f.place, "name": f.name, "live_id": f.live_id,
                "expression": f.expression, "timezone": f.timezone, "calls": f.calls, "managed": f.managed,
                "code": f.code, "reason": i.reason,
                "schedule": None if i.schedule is None else {"kind": i.schedule.kind,
                                                             "expression": i.schedule.expression,
                                                             "timezone": i.schedule.timezone}}
    return json.dumps({"items": [item(i) for i in inv.items], "errors": inv.errors, "calls": inv.calls,
                       "groups": [g.__dict__ for g in ov.groups], "unique": list(ov.unique),
                       "overlap": {"total": ov.total, "overlapping": ov.overlapping, "share": round(ov.share, 4),
                                   "retirable": ov.exact_extra()}}, indent=2) + "\n"


def markdown(inv: Inventory, ov: Overlap) -> str:
    """Return the report as Markdown (for a job summary or an issue)."""
    out = ["## lockstep import discover", "", f"**{figure(ov)}**", "",
           "| workflow | schedule | calls | status |", "|---|---|---|---|"]
    out += [f"| `{i.key}` | `{_schedule(i)}` | {i.found.calls or '-'} | {_status(i)} |" for i in inv.items]
    for g in ov.groups:
        out += ["", f"- **{g.kind}**: {', '.join(f'`{m}`' for m in g.members)} — keep `{g.keep}` ({g.why})"]
    out += [f"- error: {e}" for e in inv.errors]
    return "\n".join(out) + "\n"


FORMATS: dict[str, Callable[[Inventory, Overlap], str]] = {"table": table, "json": as_json, "markdown": markdown}
