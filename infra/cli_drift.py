"""`lockstep drift`: compare git with every platform's live state; `drift adopt|revert INCIDENT` resolves incidents.

Exit codes: 0 in sync, 1 drift, 2 could not run (a stack that does not load, a ledger that cannot be read or
written: the report in the asked format says why), 3 inconclusive (something could not be read, so nothing is claimed
in sync).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.errors import LockstepError, SpecInvalid, UsageError

ACTIONS = ("adopt", "revert")


def register(subparsers: Any) -> None:
    """Add `drift` to the lockstep CLI."""
    p = subparsers.add_parser("drift", help="compare git with what every platform runs; adopt or revert incidents",
                              description="lockstep drift --stack S: find drift; lockstep drift adopt|revert ID "
                                          "--stack S: resolve an incident.")
    p.add_argument("words", nargs="*", metavar="adopt|revert INCIDENT", help="resolve an incident instead of reading")
    p.add_argument("--stack", required=True, help="the stack to compare (Pulumi.<stack>.yaml)")
    p.add_argument("--workflow", action="append", default=[], help="only this workflow (repeatable)")
    p.add_argument("--target", action="append", default=[], choices=("aws", "azure", "gcp", "onprem"),
                   help="only this target (repeatable)")
    p.add_argument("--format", default="table", choices=("table", "json", "markdown", "sarif"))
    p.add_argument("--no-record", action="store_true", help="report only; do not open or update incidents")
    p.add_argument("--summary", type=Path, default=None, help="also write the Markdown report here (a job summary)")
    p.add_argument("--ledger-remote", default=None, metavar="REMOTE",
                   help="keep incidents as drift entries on the deployment ledger of this git remote (name or URL; "
                        "the pipeline's `origin`); without it they are JSON files under .lockstep/drift")
    p.add_argument("--ledger-branch", default=None, help="the ledger branch (default lockstep/ledger)")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.set_defaults(func=cmd_drift)


def cmd_drift(args: argparse.Namespace) -> int:
    """Run a drift comparison, or resolve an incident."""
    if args.words:
        if len(args.words) != 2 or args.words[0] not in ACTIONS:
            raise LockstepError(f"drift: {' '.join(args.words)!r} is not a drift action — use "
                                "`lockstep drift adopt INCIDENT` or `lockstep drift revert INCIDENT`")
        return _resolve(args, args.words[0], args.words[1])
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Compare and report; a run that cannot be made is still reported, in the asked format, with exit 2."""
    from infra.drift import report

    try:
        verdict, text, summary = _compare(args)
    except SpecInvalid as exc:
        return _cannot_run(args, [e.render() for e in exc.errors])
    except LockstepError as exc:
        return _cannot_run(args, [str(exc)])
    sys.stdout.write(text)
    if args.summary:
        _write_summary(args.summary, summary)
    return report.EXIT[verdict]


def _compare(args: argparse.Namespace) -> tuple[str, str, str]:
    """Return the verdict, the report in the asked format, and the Markdown summary."""
    from infra.drift import report
    from infra.drift.attribute import attribute
    from infra.drift.collect import collect
    from infra.drift.compare import compare, level_of
    from infra.drift.desired import declaration
    from infra.drift.reconcile import now_iso, record
    from infra.drift.tolerance import for_stack

    started = time.perf_counter()
    decl = declaration(args.root, args.stack, args.workflow, args.target)
    tolerance = for_stack(decl.root, args.stack)
    store = None if args.no_record else _store(args, decl.root)
    glass = None if store is None else _ledger_glass(args, store)  # the ledger is read before the platforms are
    got = collect(decl)
    findings = compare(decl, got, tolerance)
    verdict = str(level_of(findings))
    incidents = []
    if store is not None and glass is not None:
        conclusive = [(name, t) for (name, t), live in got.live.items() if not live.inconclusive]
        incidents = record(store, args.stack, findings, now_iso(), conclusive, glass)
        answered = {i.id: i for i in attribute(decl, incidents, store)}
        incidents = [answered.get(i.id, i) for i in incidents]
    cost = {"calls": got.calls, "resources": got.resources, "seconds": time.perf_counter() - started,
            "read_seconds": got.seconds}
    return (verdict, report.FORMATS[args.format](verdict, findings, incidents, cost),
            report.markdown(verdict, findings, incidents, cost))


def _cannot_run(args: argparse.Namespace, reasons: list[str]) -> int:
    """Say why on stderr, and write the failure in the asked format (and the summary), so no stale report stays."""
    from infra.drift import report

    for reason in reasons:
        print(f"lockstep: {reason}", file=sys.stderr)
    if args.format != "table":
        sys.stdout.write(report.FAILED[args.format](args.stack, reasons))
    if args.summary:
        _write_summary(args.summary, report.failed_markdown(args.stack, reasons))
    return report.CANNOT_RUN


def _write_summary(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--summary {path}: cannot be written ({exc.strerror}); name a file in a writable "
                         "directory") from exc


def _resolve(args: argparse.Namespace, action: str, incident_id: str) -> int:
    from infra.drift.desired import declaration
    from infra.drift.reconcile import now_iso, resolve

    decl = declaration(args.root, args.stack, packages=False)
    store = _store(args, decl.root)
    found = store.get(incident_id)
    if found is None:
        resolve(store, incident_id, action, "", now_iso())  # raises with the open incidents listed
        return 1
    if action == "revert":
        done = resolve(store, found.id, "revert-requested", "git's value is to be redeployed; the incident closes "
                       "when a drift run sees it live again", now_iso())
        print(f"incident {done.id}: revert recorded — redeploy the stack (the pipeline's deploy of "
              f"{args.stack}), then run `lockstep drift --stack {args.stack}` to close it")
        return 0
    wf = decl.workflows().get(found.workflow)
    if wf is None:
        raise LockstepError(f"drift adopt: workflow {found.workflow!r} of incident {found.id} is no longer declared")
    from infra.drift.adopt import adopt

    edit = adopt(decl.root, wf, found, _live_schedule(decl, found.workflow, found.target)
                 if found.canonical in ("schedule", "timezone") else None)
    resolve(store, found.id, "adopted", f"{edit.path.name}: {edit.field} {edit.old} -> {edit.new}", now_iso())
    print(f"incident {found.id}: adopted — {edit.path.relative_to(decl.root)}: {edit.field} = {edit.new} "
          f"(was {edit.old}); commit it and open a pull request")
    return 0


def _store(args: argparse.Namespace, root: Path) -> Any:
    """Return where incidents are kept: the ledger of --ledger-remote, else JSON files under the repository."""
    if not args.ledger_remote:
        from infra.drift.reconcile import JsonIncidentStore

        return JsonIncidentStore(root, args.stack)
    from infra.cli_rollout import default_holder, remote_url
    from infra.drift.ledger import LedgerIncidentStore
    from infra.ledger.store import BRANCH, GitLedger, Signing
    from infra.ledger.writer import Writer

    ledger = GitLedger(remote_url(root, args.ledger_remote), args.ledger_branch or BRANCH, Signing.from_env())
    return LedgerIncidentStore(Writer(ledger, args.stack, default_holder()))


def _ledger_glass(args: argparse.Namespace, store: Any) -> Callable[[str, str], bool]:
    """Return the open break-glass windows; a ledger that cannot be read is named by the option that chose it."""
    try:
        return _glass(store, args.stack)
    except LockstepError as exc:
        if not args.ledger_remote:
            raise
        said = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise LockstepError(f"--ledger-remote {args.ledger_remote}: the ledger cannot be read ({said}); name the "
                            "pipeline's git remote (a name or a URL you can fetch), or drop --ledger-remote to keep "
                            "incidents under .lockstep/drift") from exc


def _glass(store: Any, stack: str) -> Callable[[str, str], bool]:
    """Return whether a break-glass window is open (and unexpired) on a workflow and target, from the ledger.

    Without the ledger there are no windows: every difference is an incident.
    """
    from infra.drift.ledger import LedgerIncidentStore

    if not isinstance(store, LedgerIncidentStore):
        return lambda _wf, _t: False
    import datetime as dt

    from infra.rollout.breakglass import open_glass

    now = dt.datetime.now(dt.UTC)
    windows = {key for key, g in open_glass(store.writer.ledger.read(), stack).items() if not g.expired(now)}
    return lambda wf, target: (wf, target) in windows


def _live_schedule(decl: Any, workflow: str, target: str) -> tuple[str, str, str | None]:
    """Return the live native schedule (platform, expression, zone) of one workflow on one target, read now."""
    from dataclasses import replace

    from infra.drift.collect import collect

    narrowed = replace(decl, declared=tuple(d for d in decl.declared
                                            if d.workflow.name == workflow and d.target == target))
    live = collect(narrowed).live.get((workflow, target))
    if live is None or live.desired is None:
        raise LockstepError(f"drift adopt: cannot read the live schedule of {workflow} on {target}: "
                            f"{live.inconclusive or live.missing if live else 'not declared there'}")
    native = live.desired.native_schedule()
    return native.platform, native.expression, native.timezone
