"""`lockstep audit report`: the ledger and main's history as evidence, by control, in markdown, HTML or JSON.

The report reads and checks the ledger exactly as `lockstep audit verify` does (`infra.audit.verify`: fetch, chain
check, the typed history, completeness and the control checks), then lists what an auditor samples from and tests:
every change to main that touched what Lockstep deploys, every release attempt with its evidence and links, every
drift incident and break-glass window, the findings by control, and the metrics (`infra/audit/metrics.py`).
Signatures are verify's job (`--trust`); the report says so rather than implying they were checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from infra.audit import evidence, mainline, report_data, report_html, report_markdown, verify
from infra.audit.controls import Change
from infra.audit.evidence import Evidence, instant
from infra.audit.findings import Finding
from infra.audit.metrics import Metrics, compute
from infra.errors import LockstepError, UsageError
from infra.ledger.store import BRANCH

FORMATS = ("markdown", "html", "json")


@dataclass(frozen=True)
class Source:
    """Where the report's evidence came from: the clone, its main, the ledger remote and tip, the period."""

    root: str
    main: str
    remote: str
    branch: str
    tip: str
    since: str = ""


@dataclass(frozen=True)
class Report:
    """The evidence, its metrics, where it came from, and what the verify checks found in it."""

    evidence: Evidence
    metrics: Metrics
    source: Source
    generated_at: str
    findings: tuple[Finding, ...] = ()
    population: tuple[Change, ...] = ()      # how the checks account for each change to main
    notes: tuple[str, ...] = ()


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the report's options to a parser (`infra/cli_audit.py` declares the same ones for `audit report`)."""
    p.add_argument("--root", type=Path, default=None, help="the clone (default: the current directory)")
    p.add_argument("--format", choices=FORMATS, default="markdown", help="markdown (default), html or json")
    p.add_argument("--since", default="", metavar="REV|DATE",
                   help="only changes after this commit on main, or on or after this date")
    p.add_argument("--output", type=Path, default=None, metavar="FILE",
                   help="write here instead of stdout ('-': stdout)")
    p.add_argument("--main", default="main", help="the branch the pipeline deploys (default main)")
    p.add_argument("--ledger-remote", default="origin", help="remote (name or URL) to fetch the ledger from")
    p.add_argument("--ledger-branch", default=BRANCH, help=f"ledger branch (default {BRANCH})")
    p.add_argument("--no-fetch", action="store_true", help="report the ledger branch already in this clone")
    p.add_argument("--prod", default="prod", help="the production stack (default prod)")
    p.add_argument("--staging", default="staging", help="the stack production must follow (default staging)")


def run(args: argparse.Namespace) -> int:
    """Build the report the arguments ask for and write it; exit 0 when written (findings are in the report)."""
    fmt = getattr(args, "format", None) or "markdown"
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: not a report format; use one of {', '.join(FORMATS)}")
    report = build(Path(getattr(args, "root", None) or Path.cwd()),
                   remote="" if getattr(args, "no_fetch", False) else getattr(args, "ledger_remote", "origin"),
                   branch=getattr(args, "ledger_branch", BRANCH), main=getattr(args, "main", "main"),
                   since=getattr(args, "since", "") or "", prod=getattr(args, "prod", "prod"),
                   staging=getattr(args, "staging", "staging"))
    text = render(report, fmt)
    output = getattr(args, "output", None)
    if output is None or str(output) == "-":  # '-' is stdout, as Unix tools read it
        sys.stdout.write(text)
        return 0
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {output}: cannot be written ({exc.strerror}); name a file in a writable "
                         "directory") from exc
    ev = report.evidence
    print(f"lockstep audit report: {fmt} written to {output}: {len(ev.commits)} change(s), {len(ev.releases)} "
          f"release attempt(s), {len(ev.incidents)} drift incident(s), {len(report.findings)} finding(s)",
          file=sys.stderr)
    return 0


def render(report: Report, fmt: str) -> str:
    """Return the report in one format."""
    if fmt == "json":
        return report_data.to_json(report_data.data(report))
    if fmt == "html":
        return report_html.render(report)
    return report_markdown.render(report)


def build(root: Path, *, remote: str = "origin", branch: str = BRANCH, main: str = "main", since: str = "",
          prod: str = "prod", staging: str = "staging", now: str = "") -> Report:
    """Read and check the ledger of the clone at `root` the way `audit verify` does; fold it into the report."""
    req = verify.Request(root, None, (), since, remote, branch, main, prod, staging)
    verdict = verify.verify(req)
    if not verdict.history.entries:
        raise LockstepError(f"the ledger branch {branch} has no readable entries: nothing has been released "
                            "through Lockstep yet, or the remote is not the repository's; run `lockstep audit "
                            "verify` for the findings")
    population = mainline.population(root, mainline.resolve_main(root, main))
    ev = evidence.project(verdict.history, population)
    if since:
        period, when = mainline.since_filter(root, since, population)
        ev = _period(ev, period, when, by_commit=not _is_date(since))
    report_at = now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    source = Source(str(root), main, remote or "(this clone)", branch, verdict.tip or "", since)
    return Report(ev, compute(ev), source, report_at, tuple(verdict.findings), tuple(verdict.population),
                  tuple(verdict.notes))


def _period(ev: Evidence, period: set[str], when: dt.datetime | None, by_commit: bool) -> Evidence:
    """Keep the period's changes and their releases (after a REV: releases of later commits; from a DATE: releases
    started since), and the incidents and windows that began in it."""
    def began(at: str) -> bool:
        return bool(when and at and instant(at) >= when)
    return replace(ev, commits=tuple(c for c in ev.commits if c.sha in period),
                   releases=tuple(r for r in ev.releases if r.commit in period or (not by_commit and
                                  began(r.started_at))),
                   incidents=tuple(i for i in ev.incidents if began(i.detected_at)),
                   glass=tuple(g for g in ev.glass if began(g.opened_at)))


def _is_date(value: str) -> bool:
    """Tell whether --since names a date (as `mainline.since_filter` reads it) rather than a revision."""
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
