"""The report as one self-contained HTML page (inline CSS and SVG, no script, no network), rendered from
`report_data.data` like the other formats: metrics, the timeline per target, the population, each release's
evidence by control, drift incidents and break-glass windows.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from infra.audit import report_data, report_svg
from infra.audit.report_markdown import duration, rate

if TYPE_CHECKING:
    from infra.audit.report import Report

CSS = """
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2430;margin:0;background:#eef0f4}
main{max-width:1360px;margin:0 auto;padding:20px 20px 60px}
h1{font-size:24px;margin:4px 0 2px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #d5d9e0;
padding-bottom:4px}h3{font-size:15px;margin:0 0 6px}
.sub{color:#5b6270;margin:0 0 14px}.card{background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:12px 14px;
margin:10px 0}.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px}
.metric{background:#fff;border:1px solid #d5d9e0;border-radius:8px;padding:10px 12px}
.metric b{display:block;font-size:20px}.metric span{color:#5b6270;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #d5d9e0;padding:4px 7px;text-align:left;vertical-align:top}th{background:#f3f5f8}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
.ok{color:#1b7a36;font-weight:600}.bad{color:#c0392b;font-weight:600}.warn{color:#b36b00;font-weight:600}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#e4e7ec;margin-right:4px}
.tag.released{background:#d8f0df}.tag.rolled-back{background:#f8d7d5}.tag.in-progress{background:#fdebc8}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:14px;
height:10px;border-radius:2px;margin-right:4px;vertical-align:middle}
.timeline{background:#fff;border:1px solid #d5d9e0;border-radius:8px}
.timeline .lane{font:600 13px sans-serif;fill:#1f2430}.timeline .tick{font:11px sans-serif;fill:#5b6270}
.timeline .bar{font:11px ui-monospace,monospace;fill:#fff}
.releases{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:10px}
.releases .card{margin:0}ul{margin:4px 0;padding-left:18px}
"""


def render(report: Report) -> str:
    """Return the whole report as one HTML document."""
    doc = report_data.data(report)
    body = [_head(doc), _findings(doc), _metrics(doc["metrics"]), _timeline(doc), _population(doc), _releases(doc),
            _incidents(doc), _failed(doc), _glass(doc), _emergency(doc)]
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Lockstep audit report</title>"
            f"<style>{CSS}</style></head><body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")


def _e(value: object) -> str:
    return escape(str(value))


def _a(text: object, url: str | None) -> str:
    return f'<a href="{_e(url)}">{_e(text)}</a>' if url else _e(text)


def _head(doc: dict[str, Any]) -> str:
    src = doc["source"]
    return (f"<h1>Lockstep audit report</h1><p class=\"sub\">Repository <code>{_e(doc['repository'] or src['root'])}"
            f"</code> · changes on <code>{_e(src['main'])}</code>{' since ' + _e(src['since']) if src['since'] else ''}"
            f" · ledger <code>{_e(src['branch'])}</code> at <code>{_e(src['tip'][:12])}</code> "
            f"({doc['ledger']['entries']} entries) · generated {_e(doc['generated_at'])}. The findings are those of "
            "<code>lockstep audit verify</code> on the same ledger; signatures are checked only by <code>lockstep "
            "audit verify --trust FILE</code>.</p>"
            + "".join(f'<p class="sub">note: {_e(n)}</p>' for n in doc["notes"]))


def _metrics(m: dict[str, Any]) -> str:
    cfr = m["change_failure_rate"]
    cards = [("Drift incidents", f"{m['drift_incidents']}", f"{m['drift_open']} open · CC7.1"),
             ("Time to detect (median)", duration(m["time_to_detect"]["median_s"]),
              f"max {duration(m['time_to_detect']['max_s'])} · CC7.1"),
             ("Time to reconcile (median)", duration(m["time_to_reconcile"]["median_s"]),
              f"max {duration(m['time_to_reconcile']['max_s'])} · CC7.2"),
             *((f"Change-failure rate ({k})", rate(v), "CC8.1") for k, v in cfr.items()),
             ("Emergency-change share", rate(m["emergency_change_share"]), "A.8.32"),
             ("Lead time merge → prod (median)", duration(m["lead_time_merge_to_prod"]["median_s"]),
              f"max {duration(m['lead_time_merge_to_prod']['max_s'])} over {m['lead_time_merge_to_prod']['count']}")]
    return "<h2>Metrics</h2><div class=\"metrics\">" + "".join(
        f'<div class="metric"><span>{_e(a)}</span><b>{_e(b)}</b><span>{_e(c)}</span></div>' for a, b, c in cards) \
        + "</div>"


def _timeline(doc: dict[str, Any]) -> str:
    legend = (f'<p class="legend"><span><i style="background:{report_svg.PALETTE[0]}"></i>a release running '
              f'(colour per commit, first 7 characters shown)</span><span><i style="background:#c3c8d0"></i>a wave '
              f'applying</span><span><i style="background:{report_svg.FAILED}"></i>failed release until rolled back'
              f'</span><span><i style="background:{report_svg.DRIFT}"></i>drift window</span><span><i style="'
              f'background:{report_svg.GLASS}"></i>break-glass window</span><span>▶ rollback · empty = nothing '
              "verified there yet (gap)</span></p>")
    return "<h2>Timeline per target</h2>" + legend + report_svg.render(doc["timeline"], doc["timeline_end"])


def _population(doc: dict[str, Any]) -> str:
    changes = doc["population"]["changes"]
    rows = "".join(
        f"<tr><td><code>{_a(c['commit'][:12], c['links'].get('commit'))}</code></td><td>{_e(c['landed_at'])}</td>"
        f"<td>{_e(c['author'] or '—')}</td><td>{_a('#' + str(c['pr']), c['links'].get('pr')) if c['pr'] else '—'}"
        f"</td><td>{_e(', '.join(c['approvers']) or '—')}</td><td>{_e(c['subject'])}</td>"
        f"<td>{_status(c['status'])} {_e(c['detail'])}</td></tr>" for c in changes)
    releases = ", ".join(f'<a href="#{_e(r)}"><code>{_e(r)}</code></a>' for r in doc["population"]["releases"])
    return (f"<h2>Population</h2><h3>Changes to main ({len(changes)})</h3><table><tr><th>commit</th><th>landed</th>"
            f"<th>author</th><th>PR</th><th>approvers</th><th>subject</th><th>accounted for</th></tr>{rows}</table>"
            f"<div class=\"card\"><h3>Release attempts ({len(doc['population']['releases'])})</h3>{releases}</div>")


def _status(text: str) -> str:
    cls = {"released": "ok", "rolled-back": "bad", "unrecorded": "bad", "pending": "warn"}.get(text, "")
    return f'<span class="{cls}">{_e(text)}</span>'


def _findings(doc: dict[str, Any]) -> str:
    found = doc["findings"]
    if not found:
        return ('<div class="card"><span class="ok">No findings</span>: the checks of <code>lockstep audit verify'
                "</code> (chain, completeness, approvals, gate, staging before prod, waves, drift, break-glass) found "
                "nothing in this period.</div>")
    items = "".join(f"<li><b>{_e(' / '.join(f['controls']))}</b> {_e(f['text'])}</li>" for f in found)
    return f'<h2>Findings ({len(found)})</h2><div class="card"><ul class="bad">{items}</ul></div>'


def _releases(doc: dict[str, Any]) -> str:
    return ("<h2>CC8.1 · A.8.32 — each release with its evidence</h2><div class=\"releases\">"
            + "".join(_release(r) for r in doc["releases"]) + "</div>")


def _release(r: dict[str, Any]) -> str:
    gate = r["gate"]
    items = [f"commit {_a(r['commit'][:12], r['links'].get('commit'))}; PR "
             f"{_a('#' + str(r['pr']), r['links'].get('pr')) if r['pr'] else '<span class=bad>none</span>'} by "
             f"{_e(r['author'] or '—')}, approved by {_e(', '.join(r['approvers']) or '—')} "
             f"({_e(r['review_decision'])}; admin bypass {_e(r['admin_bypass'])})",
             (f"gate #{gate['seq']}: " + ", ".join(f"{_e(t)} {_verdict(v)}" for t, v in gate["targets"].items()))
             if gate else "<span class=bad>no gate recorded</span>"]
    if r["stack"] == "prod":
        seq = r["staging_verified_seq"]
        items.append(f"staging verified first: {'#' + str(seq) if seq else '<span class=bad>no</span>'}")
    items += [_wave(w) for w in r["waves"]]
    rb = r["rollback"]
    if rb:
        items.append(f"<span class=bad>rollback</span> to <code>{_e(rb['to_commit'][:12])}</code>: "
                     f"{_verdict(rb['result'] or 'unfinished')} (#{rb['start_seq']}–#{rb['done_seq']})"
                     + "".join(f"<br>{_wave(w)}" for w in rb["waves"]))
    if r["resumes"]:
        items.append("resumed after a crash: " + ", ".join(f"#{s}" for s in r["resumes"]))
    items += [f"<span class=warn>break-glass {_e(g['scope'])}</span>: {_e(g['reason'])} (#{g['seq']})"
              for g in r["break_glass"]]
    items.append("missing evidence: " + ("<span class=ok>none</span>" if not r["missing"] else
                                         "<span class=bad>" + _e("; ".join(r["missing"])) + "</span>"))
    items += [f"<span class=bad>finding: {_e(f)}</span>" for f in r["findings"]]
    return (f'<div class="card" id="{_e(r["id"])}"><h3>{_e(r["stack"])} · <code>{_e(r["commit"][:12])}</code> '
            f'<span class="tag {_e(r["outcome"])}">{_e(r["outcome"])}</span></h3><ul>'
            + "".join(f"<li>{i}</li>" for i in items) + f"</ul><span class=\"sub\">{_e(r['holder'])} · "
            f"{_e(r['started_at'])} → {_e(r['finished_at'])} · ledger #{r['seqs'][0]}–#{r['seqs'][-1]}</span></div>")


def _verdict(v: str) -> str:
    cls = "ok" if v in ("pass", "ok") else "bad"
    return f'<span class="{cls}">{_e(v)}</span>'


def _wave(w: dict[str, Any]) -> str:
    return (f"wave {w['index'] + 1} [{_e(', '.join(w['targets']))}]: intent #{w['intent_seq']} · applied "
            f"{_verdict(w['applied'] or '—')} · verified {_verdict(w['verified'] or '—')} #{w['verified_seq'] or '—'}"
            + (f" · resumed: {_e(w['resumed'])}" if w["resumed"] else "")
            + (f" · left alone under break-glass: {_e(', '.join(w['break_glass']))}" if w["break_glass"] else ""))


def _incidents(doc: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(i['id'])}</code></td><td>{_e(i['stack'])}</td><td>{_e(i['workflow'])}</td>"
        f"<td>{_e(i['target'])}</td><td>{_e(i['attribute'])}</td><td>{_e(i['detected_at'])} (#{i['detected_seq']})"
        f"</td><td>{_e(i['changed_by'] or '—')}</td><td>{_resolution(i)}</td></tr>" for i in doc["drift_incidents"])
    return ("<h2>CC7.1 · CC7.2 — drift incidents</h2><table><tr><th>incident</th><th>stack</th><th>workflow</th>"
            "<th>target</th><th>attribute</th><th>detected</th><th>changed by</th><th>resolution</th></tr>"
            + (rows or "<tr><td colspan=8>none</td></tr>") + "</table>")


def _resolution(i: dict[str, Any]) -> str:
    if i["resolution"] == "adopted":
        pr = i["pr"] or i["adopted_pr"]
        by = f" into git by <code>{_e(str(i['adopted_by'])[:12])}</code>" if i["adopted_by"] else ""
        return f"<span class=ok>adopted</span>{by}{' (PR #' + str(pr) + ')' if pr else ''}, decided at " \
               f"{_e(i['resolved_at'])} (#{i['resolved_seq']})"
    if i["resolution"] == "reverted":
        return f"<span class=ok>reverted</span> by <code>{_e(str(i['reverted_by'])[:12])}</code> at " \
               f"{_e(i['resolved_at'])} (#{i['resolved_seq']})"
    return "<span class=bad>open</span>"


def _glass(doc: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_e(g['stack'])}</td><td>{_e(g['workflow'])}/{_e(g['target'])}</td><td>{_e(g['reason'])}</td>"
        f"<td>{_e(g['opened_by'])} at {_e(g['opened_at'])} (#{g['opened_seq']})</td><td>{_e(g['expires'])}</td>"
        f"<td>{(_e(g['resolution']) + ' at ' + _e(g['closed_at']) + ' (#' + str(g['closed_seq']) + '): ' + _e(g['review'])) if g['closed_seq'] else '<span class=bad>open, not reviewed</span>'}</td></tr>"  # noqa: E501
        for g in doc["break_glass"])
    return ("<h2>CC7.2 · A.8.32 — break-glass windows and their review</h2><table><tr><th>stack</th><th>scope</th>"
            "<th>reason</th><th>opened</th><th>expires</th><th>after-the-fact review</th></tr>"
            + (rows or "<tr><td colspan=6>none</td></tr>") + "</table>")


def _failed(doc: dict[str, Any]) -> str:
    failed = [r for r in doc["releases"] if r["rollback"] or r["outcome"] == "rolled-back"]
    rows = "".join(f'<li><a href="#{_e(r["id"])}"><code>{_e(r["id"])}</code></a>: rolled back to <code>'
                   f'{_e((r["rollback"] or {}).get("to_commit", "")[:12])}</code>, '
                   f'{_verdict((r["rollback"] or {}).get("result") or "unfinished")}</li>' for r in failed)
    return (f"<h2>CC7.2 — failed releases ({len(failed)})</h2><div class=\"card\"><ul>{rows or '<li>none</li>'}"
            "</ul></div>")


def _emergency(doc: dict[str, Any]) -> str:
    rows = "".join(f'<li><a href="#{_e(r["id"])}"><code>{_e(r["id"])}</code></a>: '
                   + _e("; ".join([f"{g['scope']}: {g['reason']}" for g in r["break_glass"]]
                                  + (["admin bypass of the branch rules"] if r["admin_bypass"] is True else [])))
                   + "</li>" for r in doc["releases"] if r["break_glass"] or r["admin_bypass"] is True)
    return f"<h2>A.8.32 — emergency releases</h2><div class=\"card\"><ul>{rows or '<li>none</li>'}</ul></div>"
