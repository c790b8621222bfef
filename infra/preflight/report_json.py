"""JSON: every resource of every target with its URN, type and change, every violation, and the verdict."""

from __future__ import annotations

import json

from infra.preflight.plan import counts
from infra.preflight.run import Preview


def render(p: Preview) -> str:
    """Render the preview as JSON (input key names only, never input values, so no secret can leak)."""
    return json.dumps({
        "stack": p.stack, "base": p.base, "targets": list(p.targets), "blocked": p.blocked,
        "summary": counts(p.changes),
        "resources": [{"urn": c.resource.urn, "type": c.resource.type, "name": c.resource.name,
                       "target": c.resource.target, "workflow": c.resource.workflow, "custom": c.resource.custom,
                       "change": c.op, "changed_keys": list(c.keys)} for c in p.changes],
        "violations": [{"target": v.target, "workflow": v.workflow, "rule": v.rule, "level": v.level,
                        "blocking": v.blocking, "message": v.message, "path": v.path, "line": v.line, "urn": v.urn}
                       for v in p.violations],
        "notes": p.notes, "stats": p.stats,
    }, indent=2)
