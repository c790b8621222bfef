"""`lockstep explain WORKFLOW [--stack S] [--json]`: how each canonical field lands on each target, and why."""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra import fidelity
from infra.errors import SpecInvalid, UsageError
from infra.loader import load_repo
from infra.model import StackConfig, Workflow


def explain(wf: Workflow, stacks: list[StackConfig]) -> dict[str, Any]:
    """Return the field x target table of a workflow for each stack, as JSON-ready data."""
    out: dict[str, Any] = {"workflow": wf.name, "file": f"{wf.location.path}:{wf.location.line}",
                           "digest": wf.digest, "stacks": {}}
    for stack in stacks:
        targets = wf.targets_in(stack)
        out["stacks"][stack.name] = [_plain(x.as_dict()) for t in targets for x in fidelity.assess(wf, stack, t)]
    return out


def _plain(row: dict[str, str | None]) -> dict[str, str | None]:
    """Spell a missing native value as '(not set)', never as Python's None."""
    return {k: v.replace("=None", "=(not set)") if k == "native" and v else v for k, v in row.items()}


def render(data: dict[str, Any]) -> str:
    """Render the table for a terminal: one block per stack, one row per field and target."""
    lines = [f"{data['workflow']} ({data['file']}, digest {data['digest']})"]
    for stack, rows in data["stacks"].items():
        lines.append(f"\nstack {stack}")
        field_w = max([len("field"), *(len(r["field"]) for r in rows)])
        native_w = min(60, max([len("native"), *(len(r["native"]) for r in rows)]))
        lines.append(f"  {'field':<{field_w}}  {'target':<6}  {'fidelity':<11}  {'native':<{native_w}}  reason")
        for r in rows:
            # A long value is shown whole: a cut one hides exactly what a reader came to check.
            native = r["native"] if len(r["native"]) <= native_w else f"{r['native']}\n{'':<{field_w + 25 + native_w}}"
            why = "; ".join(x for x in (r["reason"], r["fix"] and f"fix: {r['fix']}") if x)
            lines.append(f"  {r['field']:<{field_w}}  {r['target']:<6}  {r['fidelity']:<11}  "
                         f"{native:<{native_w}}  {why}".rstrip())
    return "\n".join(lines)


def cmd_explain(args: argparse.Namespace) -> int:
    """Print how a workflow's canonical fields land on each target of each (or one) stack."""
    result = load_repo(args.root)
    stacks = [result.stack(args.stack)] if args.stack else list(result.stacks)
    wf = next((w for w in result.workflows if w.name == args.workflow), None)
    if wf is None:
        names = ", ".join(w.name for w in result.workflows) or "(none valid)"
        broken = [e for e in result.errors if e.path.startswith("workflows/")]
        if broken:  # the workflow may be among those that do not load: say why they do not
            raise SpecInvalid(broken)
        raise UsageError(f"explain: no workflow named {args.workflow!r}; known: {names}")
    blocking = [e for e in result.errors if e.path == wf.location.path or
                any(e.path == s.path for s in stacks) or
                any((wf.name, s.name) in result.blocked for s in stacks)]
    if blocking:
        raise SpecInvalid(blocking)
    data = explain(wf, [s for s in stacks if (wf.name, s.name) not in result.blocked])
    print(json.dumps(data, indent=2) if args.format == "json" else render(data))
    return 0


def register(subparsers: Any) -> None:
    """Add the `explain` subcommand."""
    from infra.cli import add_format, add_root

    p = subparsers.add_parser("explain", help="show how each canonical field lands on each target (exact, "
                              "approximate, impossible) and why")
    p.add_argument("workflow", metavar="WORKFLOW", help="the workflow's name (its name= field)")
    p.add_argument("--stack", default=None, help="only this stack (default: every stack)")
    add_root(p)
    add_format(p)
    p.set_defaults(func=cmd_explain)
