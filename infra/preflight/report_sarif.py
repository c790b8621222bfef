"""SARIF 2.1.0 for GitHub code scanning: one result per violation or load error, at its file and line."""

from __future__ import annotations

import json
from typing import Any

from infra.preflight.run import Preview
from policies import pack

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LOAD_RULE = "lockstep-load"  # a workflow or stack file that does not load: the gate cannot run at all


def render(p: Preview) -> str:
    """Render the violations and load errors as SARIF (error for blocking, warning otherwise)."""
    rules = [{"id": pol.name, "shortDescription": {"text": pol.description},
              "properties": {"tags": list(pol.tags or []),
                             "compliance": getattr(pol.framework, "reference", None) if pol.framework else None}}
             for pol in pack.POLICIES]
    rules.append({"id": LOAD_RULE, "shortDescription": {"text": "every workflow and stack file loads and validates"},
                  "properties": {"tags": ["validate"], "compliance": None}})
    results = [_result(LOAD_RULE, "error", e.render().split(": ", 1)[-1], e.path, e.line,
                       f"{LOAD_RULE}:{e.path}:{e.field}") for e in p.errors]
    results += [_result(v.rule, "error" if v.blocking else "warning", f"[{v.target}] {v.message}", v.path, v.line,
                        f"{v.rule}:{v.target}:{v.workflow}:{v.message[:80]}") for v in p.violations]
    run = {"tool": {"driver": {"name": "lockstep-preview", "informationUri": "https://github.com/",
                               "rules": rules}},
           "automationDetails": {"id": f"lockstep-preview/{p.stack}/"}, "results": results}
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _result(rule: str, level: str, text: str, path: str, line: int, fingerprint: str) -> dict[str, Any]:
    return {"ruleId": rule, "level": level, "message": {"text": text},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path},
                                                "region": {"startLine": max(line, 1)}}}],
            "partialFingerprints": {"lockstep/v1": fingerprint}}
