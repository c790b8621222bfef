"""`lockstep preview`: the gate. Offline by default (mocks + the pack in-process); `--engine pulumi` uses the CLI."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.errors import SpecError, UsageError

FORMATS = ("table", "markdown", "json", "sarif")
USAGE = 2  # the preview could not run as asked (a missing base, an unwritable directory): not a verdict
STACK = "{stack}"  # in an --output path: one file per stack
STDOUT = "-"  # as an --output: standard output, as Unix tools read it


def register(subparsers: Any) -> None:
    """Add the `preview` subcommand."""
    p = subparsers.add_parser("preview", help="per-target plan and the policy verdict over every target (offline)",
                              epilog="Several reports from one run: repeat --format, each followed by its --output "
                              "(`--format sarif --output out/{stack}.sarif --format markdown --output out/pr.md`); "
                              "each stack is previewed once and rendered to every report.")
    p.add_argument("--stack", action="append", required=True,
                   help="stack to preview (staging, prod); repeat for several")
    p.add_argument("--base", default=None, help="base revision to diff against (default: merge-base with main); "
                   "a revision that does not exist is an error (exit 2)")
    p.add_argument("--no-base", action="store_true", help="skip the base revision: every resource is a create")
    p.add_argument("--format", action="append", choices=FORMATS, default=None,
                   help="report format (default table); repeat, each with its own --output, for several reports")
    p.add_argument("--output", action="append", type=Path, default=None,
                   help="write the preceding --format's report here instead of stdout ('-': stdout); {stack} in "
                   "the path writes one file per stack (needed for json and sarif with several stacks)")
    p.add_argument("--engine", choices=("offline", "pulumi"), default="offline",
                   help="offline: Pulumi mocks + the pack in-process; pulumi: the real CLI (Automation API)")
    p.add_argument("--plan-dir", type=Path, default=Path(".lockstep/plans"),
                   help="--engine pulumi: where each stack's saved plan goes")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="per-workflow cache (default: $LOCKSTEP_CACHE_DIR, else .lockstep/cache under the repo; "
                   "LOCKSTEP_NO_CACHE=1 disables)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes that build workflows on a cache miss (default: $LOCKSTEP_WORKERS, else the "
                   "CPUs this process may use)")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress lines on stderr: auto (only once a run takes over 2 s), always, never")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.add_argument("--watch", action="store_true", help="stay running: judge again on every change to workflows/ "
                   "or a stack file and print the changed workflows' verdict (offline engine; Ctrl-C stops)")
    p.set_defaults(func=cmd_preview)


@dataclass(frozen=True)
class Report:
    """One report a run writes: a format, and a file (None: stdout; `{stack}` in it: one file per stack)."""

    format: str
    output: Path | None

    @property
    def per_stack(self) -> bool:
        """Tell whether each stack gets its own file."""
        return self.output is not None and STACK in str(self.output)

    def path(self, stack: str) -> Path | None:
        """Return where this report goes for one stack."""
        return None if self.output is None else Path(str(self.output).replace(STACK, stack))


def reports(formats: Sequence[str] | None, outputs: Sequence[Path] | None, stacks: Sequence[str]) -> list[Report]:
    """Pair each --format with its --output, in order; raise UsageError naming every pairing problem at once."""
    formats, outputs = list(formats or ["table"]), list(outputs or [])
    problems = []
    if len(formats) > 1 and len(outputs) != len(formats):
        problems.append(f"{len(formats)} --format but {len(outputs)} --output: give each --format its own --output, "
                        "in the same order (`--format sarif --output a.sarif --format markdown --output b.md`)")
    elif len(outputs) > len(formats):
        problems.append(f"--output {outputs[-1]} follows no --format of its own: one --output per --format")
    pairs = [Report(f, outputs[i] if i < len(outputs) else None) for i, f in enumerate(formats)]
    seen: dict[str, int] = {}
    for i, r in enumerate(pairs):
        if r.output is not None and seen.setdefault(str(r.output), i) != i:
            problems.append(f"--output {STDOUT} is given twice: only one report can go to stdout; give the others "
                            "files" if str(r.output) == STDOUT else
                            f"--output {r.output} is given twice: each report needs its own file")
        if len(stacks) > 1 and r.format in ("json", "sarif") and not r.per_stack:
            problems.append(f"--format {r.format} is one document per stack: with {len(stacks)} stacks give it "
                            f"--output with {STACK} in the path (e.g. out/{STACK}.{r.format})")
    if problems:
        raise UsageError("preview: " + "; ".join(problems))
    return [Report(r.format, None if str(r.output) == STDOUT else r.output) for r in pairs]


def cmd_preview(args: argparse.Namespace) -> int:
    """Run the gate for each stack; write every report; return 1 if anything blocks, 2 if it cannot run."""
    root = Path(args.root).resolve()
    wanted = reports(args.format, args.output, args.stack)
    if args.watch:
        return _watch(args, root, wanted)
    if args.engine == "pulumi":
        from infra.engine import automation as engine_pulumi

        if len(wanted) > 1 or wanted[0].per_stack:
            raise UsageError("preview: --engine pulumi writes one report: give at most one --format and --output")
        verdicts = engine_pulumi.preview_stacks(root, args.stack, root / args.plan_dir)
        _emit(engine_pulumi.render(verdicts), wanted[0].output)
        return 1 if any(v.blocked for v in verdicts) else 0
    return _offline(args, root, wanted)


def _offline(args: argparse.Namespace, root: Path, wanted: Sequence[Report]) -> int:
    from infra import bundle
    from infra.preflight import cache as cache_mod
    from infra.preflight import isolate, signing
    from infra.preflight.base import BaseError
    from infra.preflight.run import preview

    signing.from_env()  # takes the signing key out of the environment before any child process starts
    isolate.use_workers(_workers(args.workers))
    cache = None if os.environ.get("LOCKSTEP_NO_CACHE") else cache_mod.directory(root, args.cache_dir)
    where = "--cache-dir" if args.cache_dir else (cache_mod.DIR_ENV if os.environ.get(cache_mod.DIR_ENV) else
                                                  "the cache directory")
    problem = _unwritable(cache, where, "or set LOCKSTEP_NO_CACHE=1") or _unwritable(
        bundle.build_dir(), "LOCKSTEP_BUILD_DIR", "(packages are built there)")
    if not problem:
        try:
            bundle.private_dir(bundle.build_dir())
        except bundle.UnsafeBuildDir as exc:
            problem = str(exc)
    if problem:
        return _cannot_run(args, problem, wanted)
    results = []
    for stack in args.stack:  # each stack is previewed once, whatever the number of reports
        try:
            results.append(preview(root, stack, base=args.base, compare=not args.no_base, cache_dir=cache,
                                   progress=_progress(args.progress, stack)))
        except BaseError as exc:
            return _cannot_run(args, str(exc), wanted)
    bundle.prune()
    _write(wanted, results)
    return 1 if any(r.blocked for r in results) else 0


def _workers(flag: int | None) -> int | None:
    """Return --workers, checked (and $LOCKSTEP_WORKERS checked too): None means one per usable CPU."""
    from infra.preflight.isolate import WORKERS_ENV

    text = os.environ.get(WORKERS_ENV, "").strip()
    if flag is not None and flag < 1:
        raise UsageError(f"preview: --workers {flag}: must be 1 or more")
    if flag is None and text and not (text.isdigit() and int(text) > 0):
        raise UsageError(f"preview: {WORKERS_ENV}={text!r}: must be a whole number, 1 or more (or unset: one per CPU)")
    return flag


def _write(wanted: Sequence[Report], results: Sequence[Any]) -> None:
    """Render every result to every report: one document for all stacks, or one file per stack."""
    for report in wanted:
        if report.per_stack:
            for result in results:
                _emit(_render(report.format, result, 1), report.path(result.stack))
        else:
            _emit("\n\n".join(_render(report.format, r, len(results)) for r in results), report.output)


def _render(fmt: str, result: Any, stacks: int) -> str:
    """Render one stack's preview; markdown stacks that share one PR comment share its length limit."""
    from infra.preflight import report_json, report_markdown, report_sarif, report_table

    if fmt == "markdown":
        return report_markdown.render(result, limit=report_markdown.LIMIT // stacks)
    renderers: dict[str, Callable[[Any], str]] = {"table": report_table.render, "json": report_json.render,
                                                  "sarif": report_sarif.render}
    return renderers[fmt](result)


def _watch(args: argparse.Namespace, root: Path, wanted: Sequence[Report]) -> int:
    from infra.preflight import cache as cache_mod
    from infra.preflight import isolate
    from infra.preflight.base import BaseError
    from infra.preflight.watch import watch

    if args.engine != "offline" or any(r.output is not None or r.format != "table" for r in wanted):
        raise UsageError("--watch prints verdicts as files change: it runs the offline engine, to the terminal "
                         "(drop --engine, --format and --output)")
    isolate.use_workers(_workers(args.workers))
    cache = None if os.environ.get("LOCKSTEP_NO_CACHE") else cache_mod.directory(root, args.cache_dir)
    try:
        return watch(root, args.stack, base=args.base, compare=not args.no_base, cache_dir=cache)
    except BaseError as exc:  # said once, and exit 2, as a one-shot preview that cannot run
        print(f"lockstep: {exc}", file=sys.stderr)
        return USAGE


def _cannot_run(args: argparse.Namespace, message: str, wanted: Sequence[Report]) -> int:
    """Say why on stderr, and still write a blocking report, so CI never keeps a stale passing one."""
    from infra.preflight.run import Preview

    print(f"lockstep: {message}", file=sys.stderr)
    error = SpecError("Pulumi.yaml", 1, "preview", " ".join(sys.argv[1:]) or "preview", message.split(" — ")[0],
                      " — ".join(message.split(" — ")[1:]) or "fix the setup and run it again")
    failed = [Preview(stack, (), None, [], [], errors=[error], cannot_run=message) for stack in args.stack]
    _write([r for r in wanted if r.output is not None or r.format != "table"], failed)
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
