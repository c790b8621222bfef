"""The report as data: one JSON-ready mapping that every format renders, so markdown, HTML and JSON agree.

`data(report)` holds the population (changes to main with their status per stack, release attempts), each release's
evidence with links and what is missing from it, the drift incidents, the break-glass windows, the metrics and the
timeline. Nothing here judges beyond naming a gap; `lockstep audit verify` is the judge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from infra.audit.controls import Change
from infra.audit.evidence import Evidence, Release, Wave
from infra.audit.findings import Finding
from infra.audit.timeline import lanes

if TYPE_CHECKING:
    from infra.audit.report import Report

CONTROLS = {
    "CC8.1": "SOC 2 CC8.1 change management: changes are authorised, tested, approved by someone other than the "
             "author, and deployed as approved",
    "CC7.1": "SOC 2 CC7.1 detection: configuration changes made outside the pipeline are detected",
    "CC7.2": "SOC 2 CC7.2 monitoring and response: anomalies (failed releases, drift, emergency access) are "
             "handled and reviewed",
    "A.8.32": "ISO/IEC 27001 A.8.32 change management: every change, emergency changes included, follows the "
              "procedure",
}


def to_json(doc: dict[str, Any]) -> str:
    """Return the report's JSON text."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def data(report: Report) -> dict[str, Any]:
    """Return the whole report as a JSON-ready mapping."""
    ev = report.evidence
    end = ev.last_at or report.generated_at
    accounted = {c.commit: c for c in report.population}
    return {
        "generated_at": report.generated_at,
        "source": asdict(report.source),
        "repository": ev.repository,
        "ledger": {"entries": ev.entries, "tip_seq": ev.tip_seq},
        "controls": CONTROLS,
        "notes": list(report.notes),
        "findings": [f.as_dict() for f in report.findings],
        "population": {"changes": [change(ev, c.sha, accounted) for c in ev.commits],
                       "releases": [release_id(r) for r in ev.releases]},
        "releases": [dict(release(ev, r), findings=[f.render() for f in report.findings if about(f, r)])
                     for r in ev.releases],
        "drift_incidents": [dict(asdict(i), seqs=list(i.seqs), adopted_pr=_facts(ev, i.adopted_by).get("pr"))
                            for i in ev.incidents],
        "break_glass": [asdict(g) for g in ev.glass],
        "metrics": report.metrics.as_dict(),
        "timeline_end": end,
        "timeline": [{"stack": lane.stack, "target": lane.target, "spans": [asdict(s) for s in lane.spans],
                      "windows": [asdict(s) for s in lane.windows]} for lane in lanes(ev, end)],
    }


def release_id(r: Release) -> str:
    """Return a release attempt's name in the population: stack@commit#first-seq."""
    return f"{r.stack}@{r.commit[:12]}#{r.seqs[0] if r.seqs else 0}"


def links(ev: Evidence, commit: str, pr: object) -> dict[str, str]:
    """Return the forge links of a commit and its PR (empty when the repository is unknown)."""
    if not ev.repository:
        return {}
    base = f"https://github.com/{ev.repository}"
    out = {"commit": f"{base}/commit/{commit}"}
    if isinstance(pr, int):
        out["pr"] = f"{base}/pull/{pr}"
    return out


def change(ev: Evidence, sha: str, accounted: Mapping[str, Change]) -> dict[str, Any]:
    """Return one change to main: who, when, its PR and approvals, and how the ledger accounts for it."""
    c = next(x for x in ev.commits if x.sha == sha)
    facts = _facts(ev, sha)
    how = accounted.get(sha)
    return {"commit": sha, "author": c.author, "landed_at": c.at, "subject": c.subject, "pr": facts.get("pr"),
            "approvers": list(facts.get("approvers") or []), "links": links(ev, sha, facts.get("pr")),
            "status": how.status if how else "unaccounted", "detail": how.detail if how else "",
            "released_to": list(how.stacks) if how else []}


def about(f: Finding, r: Release) -> bool:
    """Tell whether a finding is about this release attempt (one of its entries, or its commit on its stack)."""
    return (f.seq is not None and f.seq in r.seqs) or (bool(f.commit) and f.commit == r.commit
                                                       and f.stack in ("", r.stack))


def release(ev: Evidence, r: Release) -> dict[str, Any]:
    """Return one release attempt with all its evidence, its links and what is missing from it."""
    gate = ev.gate(r.stack, r.commit)
    facts = dict(gate.github) if gate else {}
    targets = sorted({t for w in r.waves for t in w.targets})
    staging = staging_verified(ev, r)
    return {
        "id": release_id(r), "stack": r.stack, "commit": r.commit, "outcome": r.outcome, "holder": r.holder,
        "started_at": r.started_at, "finished_at": r.finished_at, "released_seq": r.released_seq,
        "links": links(ev, r.commit, facts.get("pr")),
        "pr": facts.get("pr"), "author": facts.get("author"), "approvers": list(facts.get("approvers") or []),
        "review_decision": facts.get("review_decision", "unknown"), "admin_bypass": facts.get("admin_bypass",
                                                                                                "unknown"),
        "gate": {"seq": gate.seq, "result": gate.result, "stacks": dict(gate.stacks),
                 "targets": {t: gate.stacks.get(r.stack, gate.result) for t in targets}} if gate else None,
        "staging_verified_seq": staging,
        "waves": [wave(w) for w in r.waves],
        "rollback": _rollback(r),
        "bad_release_seq": r.bad_seq, "resumes": list(r.resumes),
        "break_glass": [{"scope": s, "reason": why, "seq": seq} for s, why, seq in r.overrides],
        "missing": missing(ev, r, staging), "seqs": list(r.seqs),
    }


def wave(w: Wave) -> dict[str, Any]:
    """Return one wave's evidence."""
    return {"index": w.index, "targets": list(w.targets), "intent_seq": w.intent_seq, "applied": w.applied,
            "applied_seq": w.applied_seq, "verified": w.verified, "verified_seq": w.verified_seq,
            "verified_at": w.verified_at, "checks": [{"workflow": a, "target": b, "result": c}
                                                      for a, b, c in w.checks],
            "break_glass": list(w.break_glass), "resumed": w.resumed}


def _rollback(r: Release) -> dict[str, Any] | None:
    rb = r.rollback
    if rb is None:
        return None
    return {"to_commit": rb.to_commit, "start_seq": rb.start_seq, "done_seq": rb.done_seq, "result": rb.result,
            "problems": list(rb.problems), "waves": [wave(w) for w in rb.waves]}


def staging_verified(ev: Evidence, r: Release) -> int | None:
    """Return, for a prod attempt, the seq of the same commit's staging release-wide verification before it."""
    if r.stack != "prod":
        return None
    first = r.seqs[0] if r.seqs else 0
    found = [s.released_seq for s in ev.releases if s.stack == "staging" and s.commit == r.commit
             and s.outcome == "released" and s.released_seq is not None and s.released_seq < first]
    return found[0] if found else None


def missing(ev: Evidence, r: Release, staging: int | None) -> list[str]:
    """Return the evidence an auditor would look for and not find on this attempt."""
    gate = ev.gate(r.stack, r.commit)
    facts = dict(gate.github) if gate else {}
    out = []
    if gate is None:
        out.append("no gate entry for this commit on this stack")
    elif gate.result != "pass":
        out.append(f"the gate recorded {gate.result!r}")
    if not facts.get("pr"):
        out.append("no pull request recorded for the merge")
    approvers = [a for a in facts.get("approvers") or [] if a != facts.get("author")]
    if facts.get("pr") and not approvers:
        out.append("no approval by someone other than the author")
    scopes = {s for s, _why, _seq in r.overrides}
    if r.stack == "prod" and staging is None and "skip-after" not in scopes:
        out.append("no staging verification of this commit before prod")
    if not r.failed:
        for w in r.waves:
            if w.intent_seq is not None and w.verified != "pass":
                out.append(f"wave {w.index + 1} has no passing verification")
    if r.outcome == "in-progress":
        out.append("the attempt has no outcome yet (released or rolled back)")
    return out


def _facts(ev: Evidence, sha: str) -> dict[str, Any]:
    for (_stack, commit), gate in ev.gates.items():
        if commit == sha and gate.github:
            return dict(gate.github)
    return {}
