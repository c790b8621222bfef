"""`lockstep audit verify|report`: the auditor's view of the ledger, from a clone, with a trust root they hold."""

from __future__ import annotations

import argparse
from typing import Any

from infra.cli import add_format, add_root
from infra.ledger.store import BRANCH


def register(subparsers: Any) -> None:
    """Add the `audit` subcommand and its `verify` and `report` actions."""
    p = subparsers.add_parser("audit", help="verify the deployment ledger from a clone; report it by control",
                              description="Verify the ledger branch (chain, signatures, completeness against main, "
                              "approvals, gate, staging before prod, waves, drift, break-glass); exit 1 on any "
                              "finding.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))
    verify = actions.add_parser("verify", help="check the ledger; exit 0 clean, 1 findings, 2 usage")
    _common(verify)
    verify.add_argument("--trust", metavar="FILE", default=None,
                        help="allowed-signers file for the pipeline's signing key, held by you (never one read from "
                             "the repository being audited)")
    verify.add_argument("--checkpoint", metavar="HASH", action="append", default=[],
                        help="a ledger tip published outside the ledger (a rollout prints 'ledger tip: entry N "
                             "HASH'); the ledger must extend it (repeatable)")
    add_format(verify)
    verify.set_defaults(func=cmd_verify)
    report = actions.add_parser("report", help="the evidence by control (CC8.1, CC7.1/CC7.2, A.8.32)")
    _common(report)
    report.add_argument("--format", choices=("markdown", "html", "json"), default="markdown",
                        help="markdown (default), a self-contained html page, or json")
    report.add_argument("--output", metavar="FILE", default=None,
                        help="write the report here (default, or '-': stdout)")
    report.set_defaults(func=cmd_report)


def _common(p: argparse.ArgumentParser) -> None:
    add_root(p)
    p.add_argument("--since", metavar="REV|DATE", default="", help="only changes after this commit on main, or on "
                   "or after this date (the chain is always checked whole)")
    p.add_argument("--ledger-remote", default="origin", help="remote (name or URL) to fetch the ledger branch from")
    p.add_argument("--ledger-branch", default=BRANCH, help=f"ledger branch (default {BRANCH})")
    p.add_argument("--no-fetch", action="store_true", help="audit the ledger branch already in this clone")
    p.add_argument("--main", default="main", help="the branch the pipeline deploys (default main)")
    p.add_argument("--prod", default="prod", help="the production stack (default prod)")
    p.add_argument("--staging", default="staging", help="the stack production must follow (default staging)")


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify the ledger (imported here: parsing the command line loads nothing of the audit)."""
    from infra.audit import verify

    return verify.run(args)


def cmd_report(args: argparse.Namespace) -> int:
    """Report the ledger by control, when the report module is installed."""
    try:
        from infra.audit import report  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        print("lockstep audit report: not available in this version; run `lockstep audit verify` for the checks")
        return 2
    code: int = report.run(args)
    return code
