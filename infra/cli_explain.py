"""`lockstep explain WORKFLOW [--stack S] [--json]`: how each canonical field lands on each target, and why."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infra import fidelity
from infra.errors import LockstepError
from infra.loader import load_repo
from infra.model import StackConfig, Workflow


def explain(wf: Workflow, stacks: list[StackConfig]) -> dict[str, Any]:
    """Return the field x target table of a workflow for each stack, as JSON-ready data."""
    out: dict[str, Any] = {"workflow": wf.name, "file": f"{wf.location.path}:{wf.location.line}",
                           "digest": wf.digest, "stacks": {}}
    for stack in stacks:
        targets = [t for t in wf.target_names() if t in stack.enabled()]
        out["stacks"][stack.name] = [x.as_dict() for t in targets for x in fidelity.assess(wf, stack, t)]
    return out


def render(data: dict[str, Any]) -> str:
    """Render the table for a terminal: one block per stack, one row per field and target."""
    lines = [f"{data['workflow']} ({data['file']}, digest {data['digest']})"]
    for stack, rows in data["stacks"].items():
        lines.append(f"\nstack {stack}")
        field_w = max([len("field"), *(len(r["field"]) for r in rows)])
        native_w = min(60, max([len("native"), *(len(r["native"]) for r in rows)]))
        lines.append(f"  {'field':<{field_w}}  {'target':<6}  {'fidelity':<11}  {'native':<{native_w}}  reason")
        for r in rows:
            native = r["native"] if len(r["native"]) <= native_w else r["native"][: native_w - 1] + "…"
            why = "; ".join(x for x in (r["reason"], r["fix"] and f"fix: {r['fix']}") if x)
            lines.append(f"  {r['field']:<{field_w}}  {r['target']:<6}  {r['fidelity']:<11}  "
                         f"{native:<{native_w}}  {why}".rstrip())
    return "\n".join(lines)


def cmd_explain(args: argparse.Namespace) -> int:
    """Print how a workflow's canonical fields land on each target of each (or one) stack."""
    from infra.cli import find_root

    root = args.root or find_root(Path.cwd())
    result = load_repo(root)
    wf = next((w for w in result.workflows if w.name == args.workflow), None)
    if wf is None:
        names = ", ".join(w.name for w in result.workflows) or "(none valid)"
        raise LockstepError(f"explain: no valid workflow named {args.workflow!r}; known: {names}")
    stacks = [result.stack(args.stack)] if args.stack else list(result.stacks)
    data = explain(wf, stacks)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0


def register(subparsers: Any) -> None:
    """Add the `explain` subcommand."""
    p = subparsers.add_parser("explain", help="show how each canonical field lands on each target (exact, "
                              "approximate, impossible) and why")
    p.add_argument("workflow", help="workflow name")
    p.add_argument("--stack", default=None, help="only this stack (default: every stack)")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_explain)
