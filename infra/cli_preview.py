"""`lockstep preview`: the gate. Offline by default (mocks + the pack in-process); `--engine pulumi` uses the CLI."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.errors import LockstepError, SpecError, UsageError

FORMATS = ("table", "markdown", "json", "sarif")
USAGE = 2  # the preview could not run as asked (a missing base, an unwritable directory): not a verdict


def register(subparsers: Any) -> None:
    """Add the `preview` subcommand."""
    p = subparsers.add_parser("preview", help="per-target plan and the policy verdict over every target (offline)")
    p.add_argument("--stack", action="append", required=True,
                   help="stack to preview (staging, prod); repeat for several")
    p.add_argument("--base", default=None, help="base revision to diff against (default: merge-base with main); "
                   "a revision that does not exist is an error (exit 2)")
    p.add_argument("--no-base", action="store_true", help="skip the base revision: every resource is a create")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", type=Path, default=None, help="write the report here instead of stdout")
    p.add_argument("--engine", choices=("offline", "pulumi"), default="offline",
                   help="offline: Pulumi mocks + the pack in-process; pulumi: the real CLI (Automation API)")
    p.add_argument("--plan-dir", type=Path, default=Path(".lockstep/plans"),
                   help="--engine pulumi: where each stack's saved plan goes")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="per-workflow cache (default: .lockstep/cache under the repo; LOCKSTEP_NO_CACHE=1 disables)")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress lines on stderr: auto (only once a run takes over 2 s), always, never")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.add_argument("--watch", action="store_true", help="stay running: judge again on every change to workflows/ "
                   "or a stack file and print the changed workflows' verdict (offline engine; Ctrl-C stops)")
    p.set_defaults(func=cmd_preview)


def cmd_preview(args: argparse.Namespace) -> int:
    """Run the gate for each stack; print the report; return 1 if anything blocks, 2 if the preview cannot run."""
    root = Path(args.root).resolve()
    if len(args.stack) > 1 and args.format in ("json", "sarif"):
        raise LockstepError(f"--format {args.format} takes one --stack (one document per stack); run it per stack")
    if args.watch:
        return _watch(args, root)
    if args.engine == "pulumi":
        from infra.engine import automation as engine_pulumi

        verdicts = engine_pulumi.preview_stacks(root, args.stack, root / args.plan_dir)
        _emit(engine_pulumi.render(verdicts), args.output)
        return 1 if any(v.blocked for v in verdicts) else 0
    return _offline(args, root)


def _offline(args: argparse.Namespace, root: Path) -> int:
    from infra import bundle
    from infra.preflight import report_json, report_markdown, report_sarif, report_table
    from infra.preflight.base import BaseError
    from infra.preflight.run import Preview, preview

    cache = None if os.environ.get("LOCKSTEP_NO_CACHE") else (args.cache_dir or root / ".lockstep" / "cache")
    share = report_markdown.LIMIT // len(args.stack)  # several stacks share one PR comment

    def markdown(result: Preview) -> str:
        return report_markdown.render(result, limit=share)
    renderers = {"table": report_table.render, "markdown": markdown, "json": report_json.render,
                 "sarif": report_sarif.render}
    render: Callable[[Preview], str] = renderers[args.format]
    problem = _unwritable(cache, "--cache-dir", "or set LOCKSTEP_NO_CACHE=1") or _unwritable(
        bundle.build_dir(), "LOCKSTEP_BUILD_DIR", "(packages are built there)")
    if not problem:
        try:
            bundle.private_dir(bundle.build_dir())
        except bundle.UnsafeBuildDir as exc:
            problem = str(exc)
    if problem:
        return _cannot_run(args, problem, render, Preview)
    blocked, texts = False, []
    for stack in args.stack:
        try:
            result = preview(root, stack, base=args.base, compare=not args.no_base, cache_dir=cache,
                             progress=_progress(args.progress, stack))
        except BaseError as exc:
            return _cannot_run(args, str(exc), render, Preview)
        blocked = blocked or result.blocked
        texts.append(render(result))
    bundle.prune()
    _emit("\n\n".join(texts), args.output)
    return 1 if blocked else 0


def _watch(args: argparse.Namespace, root: Path) -> int:
    from infra.preflight.watch import watch

    if args.engine != "offline" or args.output is not None or args.format != "table":
        raise UsageError("--watch prints verdicts as files change: it runs the offline engine, to the terminal "
                         "(drop --engine, --format and --output)")
    cache = None if os.environ.get("LOCKSTEP_NO_CACHE") else (args.cache_dir or root / ".lockstep" / "cache")
    return watch(root, args.stack, base=args.base, compare=not args.no_base, cache_dir=cache)


def _cannot_run(args: argparse.Namespace, message: str, render: Callable[[Any], str], preview_type: Any) -> int:
    """Say why on stderr, and still write a blocking report, so CI never keeps a stale passing one."""
    print(f"lockstep: {message}", file=sys.stderr)
    error = SpecError("Pulumi.yaml", 1, "preview", " ".join(sys.argv[1:]) or "preview", message.split(" — ")[0],
                      " — ".join(message.split(" — ")[1:]) or "fix the setup and run it again")
    texts = [render(preview_type(stack, (), None, [], [], errors=[error])) for stack in args.stack]
    if args.output is not None or args.format != "table":
        _emit("\n\n".join(texts), args.output)
    return USAGE


def _unwritable(directory: Path | None, what: str, hint: str) -> str:
    """Return why a directory the preview writes to is not writable ('' when it is), before any slow work."""
    if directory is None:
        return ""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".lockstep-probe-"):
            pass
    except OSError as exc:
        return (f"{what} {directory}: is not writable ({exc.strerror or type(exc).__name__}) — "
                f"point it at a writable directory {hint}")
    return ""


def _progress(mode: str, stack: str) -> Callable[[str, int, int], None] | None:
    """Return a progress reporter writing to stderr: every step (always), or every 2 s once past 2 s (auto)."""
    if mode == "never":
        return None
    started = time.monotonic()
    last = [started]

    def tick(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if mode == "auto" and (now - started < 2.0 or now - last[0] < 2.0) and done < total:
            return
        if mode == "auto" and now - started < 2.0:
            return
        last[0] = now
        print(f"lockstep preview: {stack}: {phase} {done}/{total} workflow(s), {now - started:.0f} s",
              file=sys.stderr, flush=True)
    return tick


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        print(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
