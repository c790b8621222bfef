"""`lockstep breakglass open|close`: record that an operator acts outside the pipeline on one workflow and target."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from infra.cli_rollout import default_holder, remote_url
from infra.errors import LockstepError, UsageError
from infra.ledger.store import BRANCH, GitLedger, Signing
from infra.ledger.writer import Writer
from infra.rollout import breakglass


def register(subparsers: Any) -> None:
    """Add the `breakglass` subcommand."""
    p = subparsers.add_parser("breakglass", help="open or close a break-glass on one workflow on one target")
    p.add_argument("action", choices=("open", "close"))
    p.add_argument("--stack", required=True)
    p.add_argument("--workflow", required=True)
    p.add_argument("--target", required=True, choices=("aws", "azure", "gcp", "onprem"))
    p.add_argument("--reason", default="", help="open: why (the incident); close: what was done")
    p.add_argument("--expires", default="4h", help="open: '90m', '4h', '2d' or an ISO date-time (default 4h)")
    p.add_argument("--resolution", choices=("adopt", "revert"), default=None,
                   help="close: adopt (the live change is written back to the workflow) or revert (the next "
                        "rollout restores the declared state)")
    p.add_argument("--ledger-remote", default="origin")
    p.add_argument("--ledger-branch", default=BRANCH)
    p.add_argument("--root", type=Path, default=None)
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: one document with the ledger entry written (errors as {ok, exit, errors})")
    p.set_defaults(func=cmd_breakglass)


def cmd_breakglass(args: argparse.Namespace) -> int:
    """Append the open or close entry to the ledger."""
    ledger = GitLedger(remote_url(args.root, args.ledger_remote), args.ledger_branch, Signing.from_env())
    now = dt.datetime.now(dt.UTC)
    writer = Writer(ledger, args.stack, default_holder())
    key = (args.workflow, args.target)
    _check(args, now)
    found = breakglass.open_glass(ledger.read(), args.stack)
    if args.action == "open":
        if key in found and not found[key].expired(now):
            raise UsageError(f"--workflow/--target: {args.workflow}/{args.target} — already has a break-glass open in "
                             f"{args.stack} until {found[key].expires} (ledger entry {found[key].seq}) — close it "
                             "first, or keep working under it")
        entry = writer.record_unleased("break-glass", evidence={
            "action": "open", "workflow": args.workflow, "target": args.target, "reason": args.reason,
            "expires": breakglass.expires_at(args.expires, now)})
        _say(args, f"break-glass open on {args.workflow}/{args.target} in {args.stack} until "
             f"{entry.evidence['expires']} (ledger entry {entry.seq})", entry.seq, dict(entry.evidence))
        return 0
    if key not in found:
        raise LockstepError(f"--workflow/--target: {args.workflow}/{args.target} — has no open break-glass in "
                            f"{args.stack} — nothing to close")
    kind = "adopt" if args.resolution == "adopt" else "break-glass"
    entry = writer.record_unleased(kind, evidence={"action": "close", "workflow": args.workflow,
                                                   "target": args.target, "resolution": args.resolution,
                                                   "reason": args.reason})
    _say(args, f"break-glass closed on {args.workflow}/{args.target} ({args.resolution}; ledger entry {entry.seq})",
         entry.seq, dict(entry.evidence))
    return 0


def _check(args: argparse.Namespace, now: dt.datetime) -> None:
    """Refuse, before anything is appended to the ledger, what would record a window nobody can review."""
    if not args.reason:
        why = "a break-glass needs a reason — name the incident" if args.action == "open" else \
            "closing needs the after-the-fact review note — say what was done and who reviewed it"
        raise UsageError(f"--reason: '' — {why}")
    if args.action == "close" and args.resolution is None:
        raise UsageError("--resolution: (not given) — closing needs adopt or revert — pass --resolution adopt|revert")
    if args.action == "open" and dt.datetime.fromisoformat(breakglass.expires_at(args.expires, now)) <= now:
        raise UsageError(f"--expires: {args.expires!r} — is already past — give a duration ('4h') or a later time")
    from infra.loader import load_repo

    declared = sorted({wf.name for wf in load_repo(args.root).workflows})
    if declared and args.workflow not in declared:
        raise UsageError(f"--workflow: {args.workflow!r} — is not a declared workflow — one of {', '.join(declared)}")


def _say(args: argparse.Namespace, line: str, seq: int, evidence: dict[str, Any]) -> None:
    """Print what was recorded: the sentence, or with --format json the entry's sequence number and evidence."""
    if args.format == "json":
        print(json.dumps({"ok": True, "exit": 0, "stack": args.stack, "entry": seq, **evidence}, indent=2))
    else:
        print(line)
