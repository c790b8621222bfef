"""The `lockstep` command line: one subcommand per stage, conventional exit codes, no tracebacks for users.

Exit codes, the same for every command: 0 ok, 1 findings (validation errors, divergences, failed policies),
2 usage (a wrong argument, a missing --root or --stack), 70 an internal error (a bug in Lockstep: please report it).
With `--format json` (or `--json`) every outcome, errors included, is one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from infra import entrystore
from infra.checks import validate_repo
from infra.entrystore import EntryStore
from infra.errors import LockstepError, SpecInvalid, UsageError
from infra.inventory import inventory, render_inventory

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised (so `--format json` can report it as JSON) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        """Raise UsageError naming the command and the problem."""
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def find_root(start: Path) -> Path:
    """Return the nearest directory at or above start that holds Pulumi.yaml (else start)."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return start


def add_root(parser: argparse.ArgumentParser) -> None:
    """Add the shared --root option."""
    parser.add_argument("--root", type=Path, default=None, metavar="DIR",
                        help="repository root (default: the nearest directory above here holding Pulumi.yaml)")


def add_format(parser: argparse.ArgumentParser) -> None:
    """Add the shared machine-output option: `--format text|json`, and `--json` as its short form."""
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default), json for programs; errors are JSON too")
    parser.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def resolve_root(args: argparse.Namespace) -> Path:
    """Return --root (which must be a directory), or the repository found from the current directory."""
    if args.root is None:
        return find_root(Path.cwd())
    if not Path(args.root).is_dir():
        raise UsageError(f"--root {args.root}: no such directory")
    return Path(args.root)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate every workflow and stack; print every error, or the inventory."""
    result = validate_repo(args.root, store=memo_store(args.root))
    horizon = result.horizon.describe() if result.horizon else "(not checked)"
    if args.format == "json":
        print(json.dumps({"ok": not result.errors, "errors": [e.as_dict() for e in result.errors],
                          "warnings": [w.as_dict() for w in result.warnings], "skipped": list(result.skipped),
                          "horizon": result.horizon.as_dict() if result.horizon else None,
                          **(inventory(result) if not result.errors else {})}, indent=2))
        return EXIT_FINDINGS if result.errors else EXIT_OK
    for error in result.errors:
        print(error.render(), file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning.render()}", file=sys.stderr)
    for note in result.skipped:
        print(f"not checked: {note}", file=sys.stderr)
    if result.errors:
        print(f"horizon: schedules compared over {horizon}", file=sys.stderr)
        print(f"lockstep validate: {len(result.errors)} error(s); nothing is valid until all are fixed",
              file=sys.stderr)
        return EXIT_FINDINGS
    print(f"horizon: schedules compared over {horizon}")
    print(f"lockstep validate: {len(result.workflows)} workflow(s), {len(result.stacks)} stack(s), no errors\n")
    print(render_inventory(result))
    return EXIT_OK


def memo_store(root: Path) -> EntryStore | None:
    """Return where validate remembers loads and verdicts: the preview cache's directory (None: LOCKSTEP_NO_CACHE).

    The memo changes how long validate takes, never what it prints: a trust setting the preview would refuse
    (LOCKSTEP_CACHE_TRUST) only means no memo here, and a directory that cannot be written only a slower next run.
    """
    if os.environ.get("LOCKSTEP_NO_CACHE"):
        return None
    from infra.preflight import signing  # no `cryptography` import unless keys are configured

    try:
        store = EntryStore(entrystore.directory(root), signing.from_env())
    except UsageError:
        return None
    return store if store.directory is not None else None


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = Parser(prog="lockstep", description="Define scheduled workflows once; deploy them to AWS, Azure, GCP "
                    "and on-prem in lockstep.", epilog="Exit codes: 0 ok, 1 findings, 2 usage, 70 internal error.")
    parser.add_argument("--version", action="version", version=f"lockstep {_version()}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    validate = sub.add_parser("validate", help="validate workflows and stack configs; print the inventory",
                              description="Load every workflow and stack, report every error at once (exit 1), "
                              "or print the inventory (exit 0).")
    add_root(validate)
    add_format(validate)
    validate.set_defaults(func=cmd_validate)
    for register in _extensions():
        register(sub)
    return parser


def _version() -> str:
    try:
        return metadata.version("lockstep")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _extensions() -> list[Callable[[Any], None]]:
    """Return the register(subparsers) functions of the other stages, in one explicit list."""
    from infra import (
        cli_audit,
        cli_breakglass,
        cli_completion,
        cli_drift,
        cli_explain,
        cli_import,
        cli_preview,
        cli_rollout,
        cli_schedule,
    )
    return [cli_schedule.register, cli_explain.register, cli_preview.register, cli_drift.register,
            cli_import.register, cli_rollout.register, cli_breakglass.register, cli_audit.register,
            cli_completion.register]


def _wants_json(argv: Sequence[str]) -> bool:
    """Tell whether the command line asked for JSON, even when it did not parse."""
    argv = list(argv)
    return "--json" in argv or "--format=json" in argv or any(
        a == "--format" and argv[i + 1:i + 2] == ["json"] for i, a in enumerate(argv))


def _fail(code: int, lines: Sequence[str], as_json: bool, errors: Sequence[dict[str, object]] = ()) -> int:
    if as_json:
        print(json.dumps({"ok": False, "exit": code, "errors": list(errors) or [{"message": m} for m in lines]},
                         indent=2))
    else:
        for line in lines:
            print(line, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(argv)
    try:
        args = build_parser().parse_args(argv)
        if hasattr(args, "root"):
            args.root = resolve_root(args)
        code: int = args.func(args)
        return code
    except UsageError as exc:
        return _fail(EXIT_USAGE, [f"lockstep: {exc}" if not str(exc).startswith("lockstep") else str(exc)], as_json)
    except SpecInvalid as exc:
        return _fail(EXIT_FINDINGS, [e.render() for e in exc.errors], as_json, [e.as_dict() for e in exc.errors])
    except LockstepError as exc:
        return _fail(EXIT_FINDINGS, [f"lockstep: {exc}"], as_json)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`lockstep validate | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug in lockstep itself: one line, not a traceback; LOCKSTEP_DEBUG=1 shows it
        if os.environ.get("LOCKSTEP_DEBUG"):
            raise
        return _fail(EXIT_INTERNAL, [f"lockstep: internal error: {type(exc).__name__}: {exc} (a bug in Lockstep; "
                                     "run with LOCKSTEP_DEBUG=1 for the traceback, and please report it)"], as_json)


def run() -> None:
    """Console entry: run the CLI, flush every output, then end without the interpreter's teardown.

    Tearing down a gate process (a heap of modules and cached slices, freed object by object) costs up to a second
    and changes nothing: every report is written and its file closed when `main` returns, the exit handlers (the
    program's child process is stopped by one) still run, and the OS reclaims the rest.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # the reader went away, or the stream is closed
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    run()
