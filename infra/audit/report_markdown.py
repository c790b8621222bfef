"""The report in markdown, rendered from `report_data.data` (the JSON's content, so the two agree)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from infra.audit import report_data

if TYPE_CHECKING:
    from infra.audit.report import Report

NONE = "none\n"


def render(report: Report) -> str:
    """Return the whole report as markdown."""
    doc = report_data.data(report)
    parts = [_head(doc), _findings(doc), _metrics(doc["metrics"]), _population(doc), _changes(doc),
             _detection(doc), _response(doc), _a832(doc)]
    return "\n".join(parts).rstrip() + "\n"


def duration(seconds: float | None) -> str:
    """Return seconds as '2 h 05 min', '4 min 10 s' or '—'."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600:02d} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def rate(r: Mapping[str, Any]) -> str:
    """Return a rate as '2 / 10 (20.0 %)'."""
    value = r["value"]
    return f"{r['numerator']} / {r['denominator']}" + (f" ({value * 100:.1f} %)" if value is not None else "")


def link(text: str, url: str | None) -> str:
    """Return a markdown link, or the text when there is no URL."""
    return f"[{text}]({url})" if url else text


def _head(doc: dict[str, Any]) -> str:
    src = doc["source"]
    return (f"# Lockstep audit report\n\nRepository `{doc['repository'] or src['root']}`, changes on `{src['main']}`"
            f"{', since ' + src['since'] if src['since'] else ''}; ledger `{src['branch']}` on `{src['remote']}` "
            f"at `{src['tip'][:12]}` ({doc['ledger']['entries']} entries, last seq {doc['ledger']['tip_seq']}). "
            f"Generated {doc['generated_at']}. The findings below are those of `lockstep audit verify`, run on the "
            "same ledger; signatures are checked only by `lockstep audit verify --trust FILE`.\n"
            + "".join(f"\n> note: {n}\n" for n in doc["notes"]))


def _metrics(m: dict[str, Any]) -> str:
    cfr = m["change_failure_rate"]
    rows = [("Drift incidents", f"{m['drift_incidents']} ({m['drift_open']} open)"),
            ("Time to detect drift (median / max)", _dur(m["time_to_detect"])),
            ("Time to reconcile drift (median / max)", _dur(m["time_to_reconcile"])),
            *((f"Change-failure rate ({k})", rate(v)) for k, v in cfr.items()),
            ("Emergency-change share", rate(m["emergency_change_share"])),
            ("Lead time, merge to prod (median / max)", _dur(m["lead_time_merge_to_prod"]))]
    return "## Metrics\n\n| metric | value |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)


def _dur(d: Mapping[str, Any]) -> str:
    text = f"{duration(d['median_s'])} / {duration(d['max_s'])} over {d['count']}"
    return text + (f" ({d['unknown']} not measurable)" if d["unknown"] else "")


def _population(doc: dict[str, Any]) -> str:
    changes = doc["population"]["changes"]
    rows = "".join(f"| {link(c['commit'][:12], c['links'].get('commit'))} | {c['landed_at']} | {c['author'] or '—'} "
                   f"| {link('#' + str(c['pr']), c['links'].get('pr')) if c['pr'] else '—'} | "
                   f"{', '.join(c['approvers']) or '—'} | {c['subject']} | {c['status']}: {c['detail']} |\n"
                   for c in changes)
    releases = "".join(f"- `{r}`\n" for r in doc["population"]["releases"])
    return (f"## Population\n\n### Changes to main ({len(changes)})\n\nEvery first-parent commit on main that "
            "changed `workflows/`, `infra/`, `policies/` or a stack file, and how the ledger accounts for it.\n\n"
            "| commit | landed | author | PR | approvers | subject | accounted for |\n|---|---|---|---|---|---|---|\n"
            f"{rows}\n### Release attempts ({len(doc['population']['releases'])})\n\n{releases}")


def _findings(doc: dict[str, Any]) -> str:
    found = doc["findings"]
    if not found:
        return ("## Findings\n\nNone: the checks of `lockstep audit verify` (chain, completeness, approvals, gate, "
                "staging before prod, waves, drift, break-glass) found nothing in this period.\n")
    out = [f"## Findings ({len(found)})\n"]
    for control in doc["controls"]:
        mine = [f for f in found if control in f["controls"]]
        if mine:
            out.append(f"### {control}\n\n" + "".join(f"- {f['text']}\n" for f in mine))
    return "\n".join(out)


def _changes(doc: dict[str, Any]) -> str:
    out = ["## CC8.1 and A.8.32: each release with its evidence\n"]
    for r in doc["releases"]:
        out.append(_release(r))
    return "\n".join(out)


def _release(r: dict[str, Any]) -> str:
    gate = r["gate"]
    lines = [f"### {r['id']}: {r['outcome']}\n",
             f"- commit: {link(r['commit'], r['links'].get('commit'))}",
             f"- PR: {link('#' + str(r['pr']), r['links'].get('pr')) if r['pr'] else '— (none recorded)'}; "
             f"author {r['author'] or '—'}; approvers {', '.join(r['approvers']) or '—'}; review "
             f"{r['review_decision']}; admin bypass {r['admin_bypass']}",
             f"- gate: ledger #{gate['seq']} {gate['result']}; per target: "
             + ", ".join(f"{t} {v}" for t, v in gate["targets"].items()) if gate else "- gate: — (none recorded)",
             f"- runner: {r['holder']}; {r['started_at']} → {r['finished_at']}"]
    if r["stack"] == "prod":
        seq = r["staging_verified_seq"]
        lines.append(f"- staging verified first: {'ledger #' + str(seq) if seq else 'no'}")
    for w in r["waves"]:
        lines.append(_wave(w))
    rb = r["rollback"]
    if rb:
        lines.append(f"- rollback to {rb['to_commit'][:12] or '—'}: {rb['result'] or 'unfinished'} (ledger "
                     f"#{rb['start_seq']}–#{rb['done_seq'] or '?'})" + "".join(f"\n  - {_wave(w)[2:]}"
                                                                          for w in rb["waves"]))
    if r["bad_release_seq"]:
        lines.append(f"- recorded as a bad release: ledger #{r['bad_release_seq']}")
    if r["resumes"]:
        lines.append(f"- resumed after a crash: ledger {', '.join('#' + str(s) for s in r['resumes'])}")
    for g in r["break_glass"]:
        lines.append(f"- break-glass {g['scope']}: {g['reason']} (ledger #{g['seq']})")
    lines.append(f"- released: ledger #{r['released_seq']}" if r["released_seq"] else "- released: no")
    lines.append("- missing evidence: " + ("; ".join(r["missing"]) if r["missing"] else "none"))
    lines += [f"- FINDING {f}" for f in r["findings"]]
    return "\n".join(lines) + "\n"


def _wave(w: dict[str, Any]) -> str:
    checks = ", ".join(f"{c['workflow']}/{c['target']} {c['result']}" for c in w["checks"])
    return (f"- wave {w['index'] + 1} [{', '.join(w['targets'])}]: intent #{w['intent_seq']}, applied "
            f"{w['applied'] or '—'} #{w['applied_seq'] or '—'}, verified {w['verified'] or '—'} "
            f"#{w['verified_seq'] or '—'}" + (f" ({checks})" if checks else "")
            + (f"; resumed: {w['resumed']}" if w["resumed"] else "")
            + (f"; left alone under break-glass: {', '.join(w['break_glass'])}" if w["break_glass"] else ""))


def _detection(doc: dict[str, Any]) -> str:
    rows = "".join(f"| {i['id']} | {i['stack']} | {i['workflow']} | {i['target']} | {i['attribute']} | "
                   f"{i['detected_at']} (#{i['detected_seq']}) | {i['changed_by'] or '—'} | "
                   f"{_resolution(i)} |\n" for i in doc["drift_incidents"])
    return ("## CC7.1: drift detected\n\n| incident | stack | workflow | target | attribute | detected | changed by "
            "| resolution |\n|---|---|---|---|---|---|---|---|\n" + (rows or "| — | | | | | | | none |\n"))


def _resolution(i: Mapping[str, Any]) -> str:
    if i["resolution"] == "adopted":
        pr = i["pr"] or i["adopted_pr"]
        into = f" into git by {str(i['adopted_by'])[:12]}" if i["adopted_by"] else ""
        return f"adopted{into}{f' (PR #{pr})' if pr else ''}, decided at {i['resolved_at']} (#{i['resolved_seq']})"
    if i["resolution"] == "reverted":
        return f"reverted by {str(i['reverted_by'])[:12]} at {i['resolved_at']} (#{i['resolved_seq']})"
    return "open"


def _response(doc: dict[str, Any]) -> str:
    failed = [r for r in doc["releases"] if r["rollback"] or r["outcome"] == "rolled-back"]
    rows = "".join(f"- `{r['id']}`: rolled back to {r['rollback']['to_commit'][:12] if r['rollback'] else '—'}, "
                   f"{r['rollback']['result'] if r['rollback'] else '—'}\n" for r in failed)
    glass = "".join(f"- {g['stack']} {g['workflow']}/{g['target']}: {g['reason']} — opened by {g['opened_by']} at "
                    f"{g['opened_at']} (#{g['opened_seq']}), expires {g['expires']}; "
                    + (f"closed {g['closed_at']} (#{g['closed_seq']}) with {g['resolution']}: {g['review'] or '—'}"
                       if g["closed_seq"] else "not yet reviewed (open)") + "\n" for g in doc["break_glass"])
    return (f"## CC7.2: failures and emergency access, and their review\n\n### Failed releases ({len(failed)})\n\n"
            f"{rows or NONE}\n### Break-glass windows ({len(doc['break_glass'])})\n\n{glass or NONE}")


def _a832(doc: dict[str, Any]) -> str:
    emergency = [r for r in doc["releases"] if r["break_glass"] or r["admin_bypass"] is True]
    rows = "".join(f"- `{r['id']}`: " + "; ".join([f"{g['scope']}: {g['reason']}" for g in r["break_glass"]]
                                                   + (["admin bypass of the branch rules"]
                                                      if r["admin_bypass"] is True else [])) + "\n"
                   for r in emergency)
    return f"## A.8.32: emergency changes\n\n{rows or NONE}"
