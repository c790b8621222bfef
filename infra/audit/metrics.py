"""The report's metrics, each computed from the folded evidence by one small function whose docstring is its
definition (docs/audit.md repeats them for auditors):

- drift incidents: how many, how many still open;
- time to detect: detection − the out-of-band change (where the platform's audit source dated it), else detection
  − the last verified release on that target (the earliest the drift can have started: an upper bound);
- time to reconcile: the resolution (adopt, or the release that put git's value back) − detection;
- change-failure rate: attempts that failed (a wave failed or was inconclusive and was rolled back) ÷ attempts that
  reached a target, per stack and overall;
- emergency-change share: emergency changes (a release through a break-glass override, a break-glass window, a
  merge that bypassed the branch's rules) ÷ all changes (release attempts + break-glass windows);
- lead time from merge to prod: the prod release-wide verification − the commit's landing on main.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from infra.audit.evidence import Evidence, Incident, Release, instant, verified_on


@dataclass(frozen=True)
class Durations:
    """A set of durations in seconds: how many, median, max, and how many could not be measured."""

    count: int
    median_s: float | None
    max_s: float | None
    unknown: int = 0

    def as_dict(self) -> dict[str, float | int | None]:
        """Return a JSON-ready mapping."""
        return {"count": self.count, "median_s": self.median_s, "max_s": self.max_s, "unknown": self.unknown}


@dataclass(frozen=True)
class Rate:
    """A share: numerator ÷ denominator (None when nothing was counted)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """Return the share, or None for 0 ÷ 0."""
        return self.numerator / self.denominator if self.denominator else None

    def as_dict(self) -> dict[str, float | int | None]:
        """Return a JSON-ready mapping."""
        return {"numerator": self.numerator, "denominator": self.denominator, "value": self.value}


@dataclass(frozen=True)
class Metrics:
    """Every metric of the report."""

    drift_incidents: int
    drift_open: int
    time_to_detect: Durations
    time_to_reconcile: Durations
    change_failure: dict[str, Rate]          # stack (and "all") -> rate
    emergency_share: Rate
    lead_time_to_prod: Durations

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping."""
        return {"drift_incidents": self.drift_incidents, "drift_open": self.drift_open,
                "time_to_detect": self.time_to_detect.as_dict(),
                "time_to_reconcile": self.time_to_reconcile.as_dict(),
                "change_failure_rate": {k: v.as_dict() for k, v in self.change_failure.items()},
                "emergency_change_share": self.emergency_share.as_dict(),
                "lead_time_merge_to_prod": self.lead_time_to_prod.as_dict()}


def compute(ev: Evidence) -> Metrics:
    """Return every metric of the evidence."""
    return Metrics(len(ev.incidents), sum(1 for i in ev.incidents if not i.resolution),
                   durations([detect_s(ev, i) for i in ev.incidents]),
                   durations([reconcile_s(i) for i in ev.incidents]),
                   change_failure(ev.releases), emergency_share(ev), durations(lead_times(ev)))


def seconds(start: str, end: str) -> float | None:
    """Return end − start in seconds (ISO instants), or None when either is unknown."""
    if not start or not end:
        return None
    return (instant(end) - instant(start)).total_seconds()


def durations(values: Sequence[float | None]) -> Durations:
    """Summarise durations, counting the unknown ones apart."""
    known = [v for v in values if v is not None]
    return Durations(len(known), statistics.median(known) if known else None, max(known) if known else None,
                     len(values) - len(known))


def detect_s(ev: Evidence, incident: Incident) -> float | None:
    """Return the incident's time to detect (see the module docstring), or None when nothing dates its start."""
    start = incident.changed_at or last_verified_before(ev, incident.stack, incident.target, incident.detected_at)
    return seconds(start, incident.detected_at)


def reconcile_s(incident: Incident) -> float | None:
    """Return the incident's time to reconcile, or None while it is open."""
    return seconds(incident.detected_at, incident.resolved_at) if incident.resolution else None


def last_verified_before(ev: Evidence, stack: str, target: str, before: str) -> str:
    """Return when a release (or rollback) was last verified on the target before `before`, or ''."""
    limit = instant(before) if before else None
    found = [at for at, _c, _s in verified_on(ev.releases, stack, target) if limit is None or instant(at) <= limit]
    return max(found, key=instant) if found else ""


def change_failure(releases: Sequence[Release]) -> dict[str, Rate]:
    """Return failed ÷ attempts that reached a target (had an intent), per stack and for "all"."""
    reached = [r for r in releases if any(w.intent_seq is not None for w in r.waves)]
    out = {stack: Rate(sum(1 for r in reached if r.stack == stack and r.failed),
                       sum(1 for r in reached if r.stack == stack))
           for stack in sorted({r.stack for r in reached})}
    out["all"] = Rate(sum(1 for r in reached if r.failed), len(reached))
    return out


def emergency_share(ev: Evidence) -> Rate:
    """Return emergency changes ÷ all changes (release attempts and break-glass windows)."""
    bypassed = {c for (_s, c), g in ev.gates.items() if g.github.get("admin_bypass") is True}
    emergency = sum(1 for r in ev.releases if r.emergency or r.commit in bypassed) + len(ev.glass)
    return Rate(emergency, len(ev.releases) + len(ev.glass))


def lead_times(ev: Evidence, stack: str = "prod") -> list[float | None]:
    """Return, per commit released to the stack, release-wide verification − landing on main."""
    landed = {c.sha: c.at for c in ev.commits}
    out: list[float | None] = []
    for r in ev.releases:
        if r.stack == stack and r.outcome == "released":
            out.append(seconds(landed.get(r.commit, ""), r.finished_at))
    return out
