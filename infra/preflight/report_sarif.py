"""SARIF 2.1.0 for GitHub code scanning: one result per violation, located at the workflow file's line."""

from __future__ import annotations

import json

from infra.preflight.run import Preview
from policies import pack

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(p: Preview) -> str:
    """Render the violations as SARIF (error for blocking, warning otherwise)."""
    rules = [{"id": pol.name, "shortDescription": {"text": pol.description},
              "properties": {"tags": list(pol.tags or []),
                             "compliance": getattr(pol.framework, "reference", None) if pol.framework else None}}
             for pol in pack.POLICIES]
    results = [{
        "ruleId": v.rule, "level": "error" if v.blocking else "warning",
        "message": {"text": f"[{v.target}] {v.message}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": v.path},
                                            "region": {"startLine": max(v.line, 1)}}}],
        "partialFingerprints": {"lockstep/v1": f"{v.rule}:{v.target}:{v.workflow}:{v.message[:80]}"},
    } for v in p.violations]
    run = {"tool": {"driver": {"name": "lockstep-preview", "informationUri": "https://github.com/",
                               "rules": rules}},
           "automationDetails": {"id": f"lockstep-preview/{p.stack}/"}, "results": results}
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)
