"""`lockstep audit verify`: read the ledger from a clone, check it as a chain and against main, report findings.

Exit 0 when the ledger proves every change in the period, 1 on any finding, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.audit import chain as chains
from infra.audit import controls, mainline, source
from infra.audit import trust as trust_root
from infra.audit.findings import CHECKS, Finding
from infra.audit.history import History, fold
from infra.errors import UsageError
from infra.ledger.store import BRANCH


@dataclass(frozen=True)
class Request:
    """What the auditor asked for."""

    root: Path
    trust: Path | None = None
    checkpoints: tuple[str, ...] = ()
    since: str = ""
    remote: str = "origin"          # '' : audit the ledger branch already in the clone
    branch: str = BRANCH
    main: str = "main"
    prod: str = "prod"
    staging: str = "staging"


@dataclass
class Verdict:
    """Everything the audit established: the folded history, the population, findings and notes."""

    history: History
    tip: str | None
    entries: int
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    population: list[controls.Change] = field(default_factory=list)
    incidents: dict[str, str] = field(default_factory=dict)   # incident id -> its resolution in words
    checked: dict[str, str] = field(default_factory=dict)     # check -> what it covered

    @property
    def ok(self) -> bool:
        """Tell whether nothing was found."""
        return not self.findings


def request(args: argparse.Namespace) -> Request:
    """Return the request the command line makes (its arguments are checked by `verify`, before any fetch)."""
    trust = Path(args.trust) if getattr(args, "trust", None) else None
    held = tuple(c.lower() for c in getattr(args, "checkpoint", None) or [])
    return Request(Path(args.root), trust, held, args.since or "", "" if args.no_fetch else args.ledger_remote,
                   args.ledger_branch, args.main, args.prod, args.staging)


def check(req: Request) -> None:
    """Raise UsageError naming every bad argument of the request, from the clone alone (nothing is fetched)."""
    problems = trust_root.problems(req.trust) if req.trust is not None else []
    problems += [f"--checkpoint {c!r}: not a ledger tip; pass the 64-hex entry digest a rollout printed ('ledger "
                 "tip: entry N HASH') or a 40-hex ledger commit id" for c in req.checkpoints
                 if not chains.valid_checkpoint(c)]
    try:
        source.require_clone(req.root)
        main_sha = mainline.resolve_main(req.root, req.main)
        if req.since:
            mainline.since_filter(req.root, req.since, mainline.population(req.root, main_sha))
    except UsageError as exc:
        problems.append(str(exc))
    if problems:
        raise UsageError("\n".join(problems))


def verify(req: Request) -> Verdict:
    """Check the arguments, then fetch and read the ledger, fold it, run every check; return the verdict."""
    check(req)
    ref = source.fetch(req.root, req.remote, req.branch)
    copy = source.read(req.root, ref, req.trust)
    chain = chains.check(copy)
    history = fold(chain.entries)
    v = Verdict(history, copy.tip, len(chain.entries), list(chain.findings))
    v.findings += chains.checkpoints(chain, copy, req.checkpoints)
    main_sha = mainline.resolve_main(req.root, req.main)
    population = mainline.population(req.root, main_sha)
    period, since = mainline.since_filter(req.root, req.since, population) if req.since else (None, None)
    out = controls.Accounted()
    controls.completeness(history, population, period, out)
    touched = {c.sha for c in population if any(f.startswith("workflows/") for f in c.files)}
    waves: dict[tuple[str, str], list[tuple[str, ...]] | None] = {}

    def configured(commit: str, stack: str) -> list[tuple[str, ...]] | None:
        if (commit, stack) not in waves:
            waves[(commit, stack)] = mainline.waves_at(req.root, commit, stack)
        return waves[(commit, stack)]

    for release in history.releases:
        if _in_period(release.first.at, release.commit, period, since):
            controls.release_checks(history, release, configured, req.prod, req.staging, out)
    for incident in history.incidents.values():
        if _in_period(incident.states[-1].at, "", period, since):
            v.incidents[incident.id] = controls.incident_checks(history, incident, touched.__contains__, out)
    now = max((e.at for e in history.entries if e.time is not None), key=_aware, default="")
    for window in history.windows:
        if _in_period(window.opened.at, "", period, since):
            controls.window_checks(window, now, out)
    v.findings += out.findings
    v.notes += out.notes + ([] if req.trust else ["signatures not checked: pass --trust FILE (your allowed-signers "
                                                  "file for the pipeline's key)"])
    v.population = out.population
    v.checked = _coverage(req, v, population, period)
    return v


def _aware(at: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(at)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _in_period(at: str, commit: str, period: set[str] | None, since: dt.datetime | None) -> bool:
    if period is None:
        return True
    if commit and commit in period:
        return True
    return bool(since and at and _aware(at) >= since)


def _coverage(req: Request, v: Verdict, population: list[mainline.MainCommit], period: set[str] | None) -> dict[str,
                                                                                                               str]:
    scope = [c for c in population if c.in_scope and (period is None or c.sha in period)]
    return {"chain": f"{v.entries} entries, tip {str(v.tip)[:12]}",
            "signature": f"against {req.trust}" if req.trust else "not checked (no --trust)",
            "checkpoint": f"{len(req.checkpoints)} checkpoint(s)",
            "completeness": f"{len(scope)} in-scope commit(s) on {req.main}" + (f" since {req.since}" if req.since
                                                                               else ""),
            "releases": f"{len(v.history.releases)} release attempt(s), "
                        f"{sum(r.outcome == 'released' for r in v.history.releases)} released",
            "drift": f"{len(v.history.incidents)} incident(s)",
            "emergency": f"{len(v.history.windows)} break-glass window(s)"}


def render_text(v: Verdict) -> str:
    """Return the verdict for people: what was checked, each finding, the notes, the outcome."""
    lines = [f"checked {k}: {what}" for k, what in v.checked.items()]
    lines += [f"FINDING {f.render()}" for f in v.findings]
    lines += [f"note: {n}" for n in v.notes]
    lines.append(f"lockstep audit verify: {len(v.findings)} finding(s)" if v.findings else
                 "lockstep audit verify: no findings: the ledger accounts for every change checked")
    return "\n".join(lines) + "\n"


def render_json(v: Verdict) -> str:
    """Return the verdict as one JSON object."""
    doc: dict[str, Any] = {
        "ok": v.ok, "tip": v.tip, "entries": v.entries, "checked": v.checked,
        "findings": [f.as_dict() for f in v.findings], "notes": v.notes,
        "population": [asdict(c) for c in v.population], "incidents": v.incidents,
        "controls": {name: list(ctl) for name, (ctl, _what) in CHECKS.items()},
        "releases": [{"stack": r.stack, "commit": r.commit, "outcome": r.outcome, "entries": r.seqs,
                      "gate": r.gate.seq if r.gate else None,
                      "pr": (dict(r.gate.evidence.get("github") or {}).get("pr") if r.gate else None)}
                     for r in v.history.releases]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run `lockstep audit verify` from parsed arguments; print the verdict; return the exit code."""
    v = verify(request(args))
    print(render_json(v) if args.format == "json" else render_text(v), end="")
    return 0 if v.ok else 1
