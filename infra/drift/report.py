"""Render a drift run: a table for terminals, JSON for tools, Markdown for a job summary, SARIF for code scanning."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from infra.drift.compare import Finding
from infra.drift.reconcile import Incident

EXIT = {"in-sync": 0, "drift": 1, "inconclusive": 3}
SARIF_LEVEL = {"drift": "error", "inconclusive": "warning", "warning": "warning", "tolerated": "note"}


def _show(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _what(f: Finding) -> str:
    if f.kind in ("field", "cross-target"):
        return f"{f.canonical} ({f.attribute})"
    return f.kind


def _line(f: Finding) -> tuple[str, ...]:
    live = _show(f.live) if f.kind in ("field", "cross-target") else f.detail
    extra = f" first diverging fire {f.first_diverging}" if f.first_diverging else ""
    cause = f" [{f.cause}]" if f.cause else ""
    where = f" on {f.resource}" if f.resource else ""
    return (f.level, f.workflow or "-", f.target, _what(f),
            _show(f.desired) if f.kind in ("field", "cross-target") else "", f"{live}{extra}{cause}{where}")


def table(verdict: str, findings: Sequence[Finding], incidents: Sequence[Incident], cost: Mapping[str, Any]) -> str:
    """Render findings as aligned columns, then incidents and the read cost."""
    rows = [("LEVEL", "WORKFLOW", "TARGET", "FIELD", "GIT", "LIVE")] + [_line(f) for f in findings]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=False)) + "  " + r[5] for r in rows] \
        if findings else ["every declared workflow runs as git declares it"]
    for inc in incidents:
        out.append(f"incident {inc.id} {inc.state}: {inc.workflow} on {inc.target} {inc.canonical or inc.kind}, "
                   f"first seen {inc.first_seen}, {_who(inc)}")
    out.append(f"lockstep drift: {verdict} — {_cost(cost)}")
    return "\n".join(out) + "\n"


def _who(inc: Incident) -> str:
    if inc.changed_by:
        return f"changed by {inc.changed_by} ({inc.changed_by_note})"
    return f"changed by: unknown ({inc.changed_by_note or 'not looked up'})"


def _cost(cost: Mapping[str, Any]) -> str:
    calls, res = sum(cost["calls"].values()), sum(cost["resources"].values())
    ratio = f"{calls / res:.2f}" if res else "n/a"
    return f"{calls} API calls for {res} resources ({ratio} per resource) in {cost['seconds']:.1f} s"


def as_json(verdict: str, findings: Sequence[Finding], incidents: Sequence[Incident],
            cost: Mapping[str, Any]) -> str:
    """Render everything as one JSON document."""
    from dataclasses import asdict

    code = EXIT[verdict]  # `ok` and `exit` as every command's JSON says them; `exit_code` kept for existing readers
    return json.dumps({"ok": code == 0, "exit": code, "verdict": verdict, "exit_code": code,
                       "findings": [asdict(f) for f in findings], "incidents": [asdict(i) for i in incidents],
                       "cost": cost}, indent=2, default=str) + "\n"


def markdown(verdict: str, findings: Sequence[Finding], incidents: Sequence[Incident],
             cost: Mapping[str, Any]) -> str:
    """Render a job summary: the verdict, a findings table, and the open incidents with how to resolve them."""
    icon = {"in-sync": "in sync", "drift": "DRIFT", "inconclusive": "INCONCLUSIVE"}[verdict]
    out = [f"## Lockstep drift: {icon}", "", _cost(cost), ""]
    if findings:
        out += ["| level | workflow | target | field | git | live |", "|---|---|---|---|---|---|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in _line(f)) + " |" for f in findings]
    for inc in incidents:
        out += ["", f"- incident `{inc.id}` ({inc.state}): {inc.workflow} on {inc.target}, {inc.canonical}: git "
                f"`{_show(inc.desired)}`, live `{_show(inc.live)}`, first seen {inc.first_seen}, {_who(inc)}. "
                f"Resolve with `lockstep drift adopt {inc.id}` or `lockstep drift revert {inc.id}`."]
    return "\n".join(out) + "\n"


def sarif(verdict: str, findings: Sequence[Finding], incidents: Sequence[Incident], cost: Mapping[str, Any]) -> str:
    """Render findings as SARIF 2.1.0 results (one rule per finding kind)."""
    results = [{"ruleId": f"drift/{f.kind}", "level": SARIF_LEVEL.get(f.level, "warning"),
                "message": {"text": f"{f.workflow or '-'} on {f.target}: {_what(f)}: git {_show(f.desired)}, "
                                    f"live {_show(f.live) if f.kind in ('field', 'cross-target') else f.detail}"
                                    + (f" ({f.resource})" if f.resource else "")},
                "properties": {"cause": f.cause, "first_diverging": f.first_diverging, "resource": f.resource}}
               for f in findings]
    doc = {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
           "runs": [{"tool": {"driver": {"name": "lockstep-drift", "rules": [
               {"id": f"drift/{k}"} for k in sorted({f.kind for f in findings})]}},
               "results": results, "properties": {"verdict": verdict}}]}
    return json.dumps(doc, indent=2, default=str) + "\n"


FORMATS = {"table": table, "json": as_json, "markdown": markdown, "sarif": sarif}
CANNOT_RUN = 2  # nothing was compared (or nothing recorded): not a verdict on the platforms
FAILED_RULE = "drift/cannot-run"


def failed_json(stack: str, reasons: Sequence[str]) -> str:
    """Render a run that could not be made as every command's error document, with drift's keys left empty."""
    return json.dumps({"ok": False, "exit": CANNOT_RUN, "verdict": "cannot-run", "exit_code": CANNOT_RUN,
                       "stack": stack, "errors": [{"message": f"lockstep: {r}"} for r in reasons],
                       "findings": [], "incidents": []}, indent=2) + "\n"


def failed_markdown(stack: str, reasons: Sequence[str]) -> str:
    """Render a run that could not be made as a job summary that says so (never a stale in-sync one)."""
    return "\n".join([f"## Lockstep drift: COULD NOT RUN ({stack})", "",
                      "The run did not complete, so it claims nothing about the platforms:", "",
                      *[f"- {r.replace(chr(10), ' ')}" for r in reasons]]) + "\n"


def failed_sarif(stack: str, reasons: Sequence[str]) -> str:
    """Render a run that could not be made as SARIF: an unsuccessful invocation and one error result per reason."""
    where = [{"physicalLocation": {"artifactLocation": {"uri": f"Pulumi.{stack}.yaml"}, "region": {"startLine": 1}}}]
    doc = {"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
           "runs": [{"tool": {"driver": {"name": "lockstep-drift", "rules": [{"id": FAILED_RULE}]}},
                     "invocations": [{"executionSuccessful": False, "exitCode": CANNOT_RUN,
                                      "toolExecutionNotifications": [{"level": "error", "message": {"text": r}}
                                                                     for r in reasons]}],
                     "results": [{"ruleId": FAILED_RULE, "level": "error", "message": {"text": r}, "locations": where}
                                 for r in reasons],
                     "properties": {"verdict": "cannot-run"}}]}
    return json.dumps(doc, indent=2) + "\n"


FAILED = {"json": failed_json, "markdown": failed_markdown, "sarif": failed_sarif}
