"""JSON: what was compared, the workflow and stack diffs, every resource of every target with its change and its
changed values (secrets redacted), every violation or load error, and the verdict."""

from __future__ import annotations

import json
from typing import Any

from infra.preflight.plan import Change, counts
from infra.preflight.review import FieldDiff
from infra.preflight.run import Preview


def render(p: Preview) -> str:
    """Render the preview as JSON (values pass through the preview's redaction: a secret shows as [secret]).

    A preview that could not run is the error document every command prints: {ok, exit, errors}, with the stack.
    """
    if p.cannot_run:
        return json.dumps({"ok": False, "exit": 2, "stack": p.stack, "blocked": True,
                           "errors": [{"message": f"lockstep: {p.cannot_run}"}]}, indent=2)
    return json.dumps({
        "stack": p.stack, "base": p.base, "base_how": p.base_how, "head": p.head, "targets": list(p.targets),
        "switched_off": p.off, "blocked": p.blocked, "errors": [e.as_dict() for e in p.errors],
        "summary": counts(p.changes),
        "workflow_changes": [_diff(d) for d in p.workflow_changes],
        "stack_change": _diff(p.stack_change) if p.stack_change else None,
        "resources": [_resource(c) for c in p.changes],
        "violations": [{"target": v.target, "workflow": v.workflow, "rule": v.rule, "level": v.level,
                        "blocking": v.blocking, "message": v.message, "path": v.path, "line": v.line, "urn": v.urn}
                       for v in p.violations],
        "notes": p.notes, "stats": p.stats,
    }, indent=2)


def _diff(d: FieldDiff) -> dict[str, Any]:
    return {"name": d.name, "path": d.path, "change": d.op,
            "fields": [{"field": f, "base": a, "head": b} for f, a, b in d.fields]}


def _resource(c: Change) -> dict[str, Any]:
    r = c.resource
    out: dict[str, Any] = {"urn": r.urn, "type": r.type, "name": r.name, "target": r.target, "workflow": r.workflow,
                           "custom": r.custom, "change": c.op, "changed_keys": list(c.keys)}
    if r.import_id:
        out["import_id"] = r.import_id
    if c.live:  # imported, then updated: what adopt read live against what is declared
        out["values"] = [{"path": p, "live": a, "head": b} for p, a, b in c.live]
    if c.op == "replace":
        out["replace_because"] = list(c.why)
    if c.op in ("update", "replace"):
        out["values"] = [{"path": p, "base": a, "head": b} for p, a, b in c.leaf_changes()]
    return out
