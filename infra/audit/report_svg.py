"""The timeline as inline SVG: one lane per (stack, target), a coloured bar per release that ran there, hatched bars
while a wave applied, red bars for failed releases up to their rollback, and bands for drift and break-glass windows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from typing import Any

from infra.audit.evidence import instant

PALETTE = ("#2f6fb0", "#2a9d8f", "#6a4c93", "#3d7d3a", "#b5651d", "#1d7874", "#5a6fa8", "#7b5e3b", "#0f5c8c",
           "#4f7942")
FAILED, DRIFT, GLASS, APPLYING = "#d1342f", "#f28e2b", "#9c4dcc", "#b9bec7"
LEFT, RIGHT, LANE, TOP, AXIS = 170, 24, 46, 34, 30


def colour(commit: str, commits: Sequence[str]) -> str:
    """Return the colour of a commit: its place among the timeline's commits picks a palette entry."""
    return PALETTE[commits.index(commit) % len(PALETTE)] if commit in commits else PALETTE[0]


def render(timeline: list[dict[str, Any]], end: str, width: int = 1320) -> str:
    """Return the timeline's SVG element (self-contained: no script, no external reference); spans still running
    at `end` (the ledger's last entry) run on to the right edge."""
    spans = [s for lane in timeline for s in (*lane["spans"], *lane["windows"]) if s["start"]]
    if not spans:
        return '<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="8" ' \
               'y="24">no release has reached a target</text></svg>'
    t0 = min(_t(s["start"]) for s in spans)
    t1 = max(_t(s["end"] or s["start"]) for s in spans)
    t1 += max(t1 - t0, 1.0) * 0.05  # room after the last entry: what runs "now" reaches the edge
    scale = (width - LEFT - RIGHT) / max(t1 - t0, 1.0)
    commits = list(dict.fromkeys(s["commit"] for lane in timeline for s in lane["spans"] if s["commit"]))
    height = TOP + LANE * len(timeline) + AXIS

    def x(text: str) -> float:
        return LEFT + ((t1 if text == end else _t(text)) - t0) * scale
    out = [f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="release timeline per target">',
           '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e7ec"/><line x1="0" y1="0" x2="0" '
           f'y2="6" stroke="{APPLYING}" stroke-width="3"/></pattern></defs>']
    out += _axis(t0, t1, lambda t: LEFT + (t - t0) * scale, height)
    for n, lane in enumerate(timeline):
        y = TOP + n * LANE
        out.append(f'<rect x="0" y="{y}" width="{width}" height="{LANE}" fill="{"#f7f8fa" if n % 2 else "#fff"}"/>')
        out.append(f'<text x="10" y="{y + LANE / 2 + 5}" class="lane">{escape(lane["stack"])} · '
                   f'{escape(lane["target"])}</text>')
        out += [_window(w, x, y) for w in lane["windows"]]
        ordered = sorted(lane["spans"], key=lambda s: s["kind"] == "failed")  # a failed release is drawn on top
        out += [_span(s, x, y, commits) for s in ordered]
    out.append("</svg>")
    return "\n".join(out)


def _axis(t0: float, t1: float, x: Any, height: int) -> list[str]:
    out = []
    steps = 6
    for i in range(steps + 1):
        t = t0 + (t1 - t0) * i / steps
        text = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%m-%d %H:%M")
        px = x(t)
        anchor = "start" if i == 0 else "end" if i == steps else "middle"
        out.append(f'<line x1="{px:.1f}" y1="{TOP - 6}" x2="{px:.1f}" y2="{height - AXIS}" stroke="#d5d9e0" '
                   'stroke-dasharray="2,3"/>')
        out.append(f'<text x="{px:.1f}" y="{TOP - 12}" class="tick" text-anchor="{anchor}">{text} UTC</text>'
                   if i == steps else f'<text x="{px:.1f}" y="{TOP - 12}" class="tick" '
                   f'text-anchor="{anchor}">{text}</text>')
    return out


def _span(s: dict[str, Any], x: Any, y: int, commits: list[str]) -> str:
    x0, x1 = x(s["start"]), x(s["end"] or s["start"])
    w = max(x1 - x0, 8.0 if s["kind"] == "failed" else 3.0)  # a failed release stays visible however short
    title = escape(f'{s["label"]}: {s["start"]} → {s["end"] or "now"} (ledger #{s["seq"]})')
    if s["kind"] == "applying":
        fill, extra = "url(#hatch)", ""
    elif s["kind"] == "failed":
        fill, extra = FAILED, ' class="failed"'
    else:
        fill, extra = colour(s["commit"], commits), f' class="{s["kind"]}"'
    bar = (f'<g{extra}><title>{title}</title><rect x="{x0:.1f}" y="{y + 12}" width="{w:.1f}" height="{LANE - 24}" '
           f'rx="3" fill="{fill}"/>')
    if s["kind"] == "rollback":
        bar += (f'<path d="M{x0:.1f},{y + 6} l6,6 l-6,6 z" fill="{FAILED}"/>')
    if s["kind"] in ("release", "rollback") and w > 48:
        bar += f'<text x="{x0 + 6:.1f}" y="{y + LANE / 2 + 4}" class="bar">{escape(s["commit"][:7])}</text>'
    return bar + "</g>"


def _window(s: dict[str, Any], x: Any, y: int) -> str:
    x0, x1 = x(s["start"]), x(s["end"] or s["start"])
    fill = DRIFT if s["kind"] == "drift" else GLASS
    top = y + 3 if s["kind"] == "drift" else y + LANE - 9
    title = escape(f'{s["label"]}: {s["start"]} → {s["end"]} (ledger #{s["seq"]})')
    return (f'<g class="{s["kind"]}"><title>{title}</title><rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 4):.1f}"'
            f' height="6" rx="2" fill="{fill}"/></g>')


def _t(text: str) -> float:
    return instant(text).timestamp()
