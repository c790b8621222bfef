"""`lockstep import discover|adopt`: inventory what the platforms run, report the overlap, adopt as workflows."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from infra.errors import LockstepError, SpecInvalid, UsageError

TARGET_NAMES = ("aws", "azure", "gcp", "onprem")


def register(subparsers: Any) -> None:
    """Add `import` to the lockstep CLI."""
    p = subparsers.add_parser("import", help="list every scheduled workflow the platforms run, find the overlap, "
                              "adopt them as workflow files",
                              description="lockstep import discover --stack S: inventory and overlap; "
                                          "lockstep import adopt KEY... --stack S: write workflows/<name>.py.")
    p.add_argument("action", choices=("discover", "adopt"))
    p.add_argument("keys", nargs="*", metavar="KEY", help="adopt: the items to adopt (target:place:name, as listed)")
    p.add_argument("--stack", required=True, help="the stack whose accounts, projects and hosts are read")
    p.add_argument("--target", action="append", default=[], choices=TARGET_NAMES,
                   help="only this target (repeatable)")
    p.add_argument("--format", default="table", choices=("table", "json", "markdown"),
                   help="discover: the report's form; adopt: json prints the files written as one JSON object")
    p.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    p.add_argument("--name", action="append", default=[], metavar="KEY=NAME",
                   help="adopt: the workflow name for an item (default: derived from its name)")
    p.add_argument("--owner", default="", help="adopt: the owner the workflow files name (an e-mail address)")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.set_defaults(func=cmd_import)


def _check_adopt(args: argparse.Namespace) -> None:
    """Refuse a malformed adopt before anything is read."""
    if not args.keys or not args.owner:
        raise UsageError("import adopt: name the items to adopt (their KEY as `lockstep import discover` lists) "
                         "and their --owner")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", args.owner):
        raise UsageError(f"--owner: {args.owner!r} — is not an e-mail address — give the owning team's address")


def cmd_import(args: argparse.Namespace) -> int:
    """Run discovery and print the report, or adopt the named items."""
    from infra import imports
    from infra.importer import report
    from infra.importer.discover import claim, discover
    from infra.importer.overlap import overlap
    from infra.loader import load_repo

    if args.action == "adopt":
        _check_adopt(args)
    repo = load_repo(args.root)  # discovery needs only the stack: a repo with no workflow yet is fine
    broken = [e for e in repo.errors if e.path == f"Pulumi.{args.stack}.yaml"]
    if broken:
        raise SpecInvalid(broken)
    stack = repo.stack(args.stack)
    enabled = stack.enabled()
    targets = [t for t in (args.target or enabled) if t in enabled]
    if not targets:
        raise LockstepError(f"import: stack {args.stack!r} enables none of {', '.join(args.target)}; "
                            f"it enables {', '.join(enabled) or 'no target'}")
    inv = claim(discover(stack, targets), imports.adopted(repo.root, repo.workflows, stack.name))
    ov = overlap(inv.items)
    if args.action == "discover":
        sys.stdout.write(report.FORMATS[args.format](inv, ov))
        return 3 if inv.errors else 0
    failed = {re.split(r"[: ]", str(e), maxsplit=1)[0] for e in inv.errors}  # 'aws eu-central-1: …' -> aws
    unread = sorted({k.split(":", 1)[0] for k in args.keys} & failed)
    if unread:
        print("\n".join(f"lockstep: {e}" for e in inv.errors), file=sys.stderr)
        print(f"lockstep import adopt: {', '.join(unread)} could not be read, so nothing was adopted or written "
              "(exit 3) — fix the access above and run it again", file=sys.stderr)
        return 3
    from infra.importer.write import adopt

    names = dict(n.split("=", 1) for n in args.name if "=" in n)
    written = adopt(repo.root, repo, stack, inv, ov, args.keys, names, args.owner)
    if args.format == "json":
        print(json.dumps({"ok": True, "stack": stack.name, "written": written}, indent=2))
    else:
        print("\n".join(f"wrote {w}" for w in written))
        print(f"next: commit them; `lockstep preview --stack {stack.name}` shows the imports, and the next "
              "`pulumi up` adopts the live resources (delete each .import.json once every stack listed is updated)")
    return 0
