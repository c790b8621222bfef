"""The `lockstep` command line: one subcommand per stage, no tracebacks for users."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from infra.checks import validate_repo
from infra.errors import LockstepError, SpecInvalid
from infra.inventory import inventory, render_inventory


def find_root(start: Path) -> Path:
    """Return the nearest directory at or above start that holds Pulumi.yaml (else start)."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return start


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every workflow and stack; print every error, or the inventory."""
    result = validate_repo(args.root)
    if args.json:
        print(json.dumps({"ok": not result.errors, "errors": [e.as_dict() for e in result.errors],
                          "warnings": [w.as_dict() for w in result.warnings],
                          **(inventory(result) if not result.errors else {})}, indent=2))
    elif result.errors:
        for error in result.errors:
            print(error.render(), file=sys.stderr)
        for warning in result.warnings:
            print(f"warning: {warning.render()}", file=sys.stderr)
        print(f"lockstep validate: {len(result.errors)} error(s); nothing is valid until all are fixed",
              file=sys.stderr)
    else:
        for warning in result.warnings:
            print(f"warning: {warning.render()}", file=sys.stderr)
        print(f"lockstep validate: {len(result.workflows)} workflow(s), {len(result.stacks)} stack(s), no errors\n")
        print(render_inventory(result))
    return 1 if result.errors else 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="lockstep", description="Define scheduled workflows once; deploy them "
                                     "to AWS, Azure, GCP and on-prem in lockstep.")
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="validate workflows and stack configs; print the inventory")
    validate.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    validate.add_argument("--json", action="store_true", help="print JSON")
    validate.set_defaults(func=cmd_validate)
    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Return the register(subparsers) functions of the other stages, in one explicit list."""
    from infra import cli_breakglass, cli_drift, cli_explain, cli_import, cli_preview, cli_rollout, cli_schedule
    return [cli_schedule.register, cli_explain.register, cli_preview.register, cli_drift.register,
            cli_import.register, cli_rollout.register, cli_breakglass.register]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = build_parser().parse_args(argv)
    if getattr(args, "root", "unset") is None:
        args.root = find_root(Path.cwd())
    try:
        code: int = args.func(args)
        return code
    except SpecInvalid as exc:
        for error in exc.errors:
            print(error.render(), file=sys.stderr)
        return 1
    except LockstepError as exc:
        print(f"lockstep: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`lockstep validate | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug in lockstep itself: one line, not a traceback; LOCKSTEP_DEBUG=1 shows it
        if os.environ.get("LOCKSTEP_DEBUG"):
            raise
        print(f"lockstep: internal error: {type(exc).__name__}: {exc} (run with LOCKSTEP_DEBUG=1 for the "
              "traceback, and please report it)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
