"""Which release ran where, when: one lane per (stack, target), folded from the report's evidence.

A lane is a list of spans. A release span starts when a wave holding the target verified the release and lasts
until the next span; an applying span runs from a wave's intent to its verification (the target is changing); a
failed span runs from a failed attempt's intent until its rollback verified the previous release; before the first
verified release a lane is empty (a gap). Drift windows (detection to resolution) and break-glass windows (opened
to closed, or to expiry) are overlaid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from infra.audit.evidence import Evidence, Release, instant


@dataclass(frozen=True)
class Span:
    """A stretch of time on one lane: what ran (or happened) there from `start` to `end`."""

    kind: str          # release | rollback | applying | failed | drift | break-glass
    start: str
    end: str
    commit: str = ""
    label: str = ""
    seq: int | None = None


@dataclass(frozen=True)
class Lane:
    """One target of one stack."""

    stack: str
    target: str
    spans: tuple[Span, ...]
    windows: tuple[Span, ...]   # drift and break-glass overlays


def lanes(ev: Evidence, end: str) -> list[Lane]:
    """Return every lane of the evidence; open spans and windows end at `end` (the report's last instant)."""
    points: dict[tuple[str, str], list[Span]] = {}
    for r in ev.releases:
        for key, span in _points(r):
            points.setdefault(key, []).append(span)
    windows: dict[tuple[str, str], list[Span]] = {}
    for i in ev.incidents:
        windows.setdefault((i.stack, i.target), []).append(Span(
            "drift", i.changed_at or i.detected_at, i.resolved_at or end, label=f"drift {i.workflow} {i.attribute} "
            f"({i.resolution or 'open'})", seq=i.detected_seq))
    for g in ev.glass:
        windows.setdefault((g.stack, g.target), []).append(Span(
            "break-glass", g.opened_at, g.closed_at or (min(g.expires, end, key=_key) if g.expires else end),
            label=f"break-glass {g.workflow}: {g.reason}", seq=g.opened_seq))
    out = []
    for key in sorted(set(points) | set(windows)):
        out.append(Lane(key[0], key[1], tuple(_chain(points.get(key, []), end)), tuple(windows.get(key, []))))
    return out


def _points(r: Release) -> Iterable[tuple[tuple[str, str], Span]]:
    """Yield the spans one attempt opens on each of its targets (their ends are filled in by `_chain`)."""
    rolled = {t: w.verified_at for w in (r.rollback.waves if r.rollback else ()) if w.verified == "pass"
              for t in w.targets}
    for w in r.waves:
        for t in w.targets:
            if not w.intent_at:
                continue
            if r.failed:
                yield (r.stack, t), Span("failed", w.intent_at, rolled.get(t, ""), r.commit,
                                         f"{r.commit[:7]} failed", w.intent_seq)
                continue
            yield (r.stack, t), Span("applying", w.intent_at, w.verified_at, r.commit, f"{r.commit[:7]} applying",
                                     w.intent_seq)
            if w.verified == "pass":
                yield (r.stack, t), Span("release", w.verified_at, "", r.commit, r.commit[:7], w.verified_seq)
    if r.rollback:
        for w in r.rollback.waves:
            if w.verified == "pass":
                for t in w.targets:
                    yield (r.stack, t), Span("rollback", w.verified_at, "", r.rollback.to_commit,
                                             f"{r.rollback.to_commit[:7]} (rolled back)", w.verified_seq)


def _chain(spans: list[Span], end: str) -> list[Span]:
    """Order the lane's spans and end each open one where the next begins (or at `end`)."""
    ordered = sorted((s for s in spans if s.start), key=lambda s: (_key(s.start), s.kind != "applying"))
    out: list[Span] = []
    for i, s in enumerate(ordered):
        if s.end:
            out.append(s)
            continue
        following = [n.start for n in ordered[i + 1:] if _key(n.start) > _key(s.start)]
        out.append(Span(s.kind, s.start, following[0] if following else end, s.commit, s.label, s.seq))
    return out


def _key(text: str) -> float:
    return instant(text).timestamp()
