"""`lockstep preview`: the gate. Offline by default (mocks + the pack in-process); `--engine pulumi` uses the CLI."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from infra.errors import LockstepError

FORMATS = ("table", "markdown", "json", "sarif")


def register(subparsers: Any) -> None:
    """Add the `preview` subcommand."""
    p = subparsers.add_parser("preview", help="per-target plan and the policy verdict over every target (offline)")
    p.add_argument("--stack", action="append", required=True,
                   help="stack to preview (staging, prod); repeat for several")
    p.add_argument("--base", default=None, help="base revision to diff against (default: merge-base with main)")
    p.add_argument("--no-base", action="store_true", help="skip the base revision: every resource is a create")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--output", type=Path, default=None, help="write the report here instead of stdout")
    p.add_argument("--engine", choices=("offline", "pulumi"), default="offline",
                   help="offline: Pulumi mocks + the pack in-process; pulumi: the real CLI (Automation API)")
    p.add_argument("--plan-dir", type=Path, default=Path(".lockstep/plans"),
                   help="--engine pulumi: where each stack's saved plan goes")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="per-workflow cache (default: .lockstep/cache under the repo; LOCKSTEP_NO_CACHE=1 disables)")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.set_defaults(func=cmd_preview)


def cmd_preview(args: argparse.Namespace) -> int:
    """Run the gate for each stack; print the report; return 1 if any mandatory rule fails on any target."""
    root = Path(args.root).resolve()
    if len(args.stack) > 1 and args.format in ("json", "sarif"):
        raise LockstepError(f"--format {args.format} takes one --stack (one document per stack); run it per stack")
    if args.engine == "pulumi":
        from infra.engine import automation as engine_pulumi

        verdicts = engine_pulumi.preview_stacks(root, args.stack, root / args.plan_dir)
        _emit(engine_pulumi.render(verdicts), args.output)
        return 1 if any(v.blocked for v in verdicts) else 0
    from infra.preflight import report_json, report_markdown, report_sarif, report_table
    from infra.preflight.run import Preview, preview

    cache = None if os.environ.get("LOCKSTEP_NO_CACHE") else (args.cache_dir or root / ".lockstep" / "cache")
    share = report_markdown.LIMIT // len(args.stack)  # several stacks share one PR comment

    def markdown(result: Preview) -> str:
        return report_markdown.render(result, limit=share)
    renderers = {"table": report_table.render, "markdown": markdown, "json": report_json.render,
                 "sarif": report_sarif.render}
    blocked, texts = False, []
    for stack in args.stack:
        result = preview(root, stack, base=args.base, compare=not args.no_base, cache_dir=cache)
        blocked = blocked or result.blocked
        texts.append(renderers[args.format](result))
    _emit("\n\n".join(texts), args.output)
    return 1 if blocked else 0


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        print(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
