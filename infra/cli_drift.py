"""`lockstep drift`: compare git with every platform's live state; `drift adopt|revert INCIDENT` resolves incidents.

Exit codes: 0 in sync, 1 drift, 3 inconclusive (something could not be read, so nothing is claimed in sync).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.errors import LockstepError

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
    got = collect(decl)
    findings = compare(decl, got, tolerance)
    verdict = str(level_of(findings))
    incidents = []
    if not args.no_record:
        conclusive = [(name, t) for (name, t), live in got.live.items() if not live.inconclusive]
        store = _store(args, decl.root)
        incidents = record(store, args.stack, findings, now_iso(), conclusive, _glass(store, args.stack))
        answered = {i.id: i for i in attribute(decl, incidents, store)}
        incidents = [answered.get(i.id, i) for i in incidents]
    cost = {"calls": got.calls, "resources": got.resources, "seconds": time.perf_counter() - started,
            "read_seconds": got.seconds}
    sys.stdout.write(report.FORMATS[args.format](verdict, findings, incidents, cost))
    if args.summary:
        args.summary.write_text(report.markdown(verdict, findings, incidents, cost), encoding="utf-8")
    return report.EXIT[verdict]


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
