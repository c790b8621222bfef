"""Adopt a drift incident: write the live value into the workflow file, so that git becomes the truth.

The edit replaces only the source text of the one value in the `workflow(...)` call (found through its syntax
tree); the file is validated afterwards and restored if the result does not validate. Adoptable: the schedule
(from the live native expression and zone), the timeout, and the retry attempts. Anything else says what to edit.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from infra.drift.reconcile import Incident
from infra.errors import LockstepError
from infra.loader import load_repo
from infra.model import Workflow

RETRIES_ATTRIBUTES = ("scheduler_retries", "lambda_retries", "retry_count")  # platform retries = attempts - 1


@dataclass(frozen=True)
class Edit:
    """One change to a workflow file: which field, the old and the new source text."""

    path: Path
    field: str
    old: str
    new: str


def adopt(root: Path, wf: Workflow, incident: Incident, live_schedule: tuple[str, str, str | None] | None) -> Edit:
    """Write the incident's live value into the workflow's file and return the edit (raise if not adoptable).

    `live_schedule` is (platform, live native expression, live zone) when the incident is about the schedule.
    """
    path = root / wf.location.path
    source = path.read_text()
    call = _call(ast.parse(source), wf.name)
    field_name, new = _value(incident, live_schedule)
    node = _node(call, field_name)
    if node is None:
        raise LockstepError(f"drift adopt: {wf.location.path} has no {field_name} in workflow {wf.name!r} to edit; "
                            f"add {field_name}={new} by hand")
    old = ast.get_source_segment(source, node) or ""
    edited = _splice(source, node, new)
    path.write_text(edited)
    result = load_repo(root)
    errors = [e for e in result.errors if e.path == wf.location.path]
    if errors:
        path.write_text(source)
        raise LockstepError(f"drift adopt: the live value does not validate, {wf.location.path} is unchanged: "
                            f"{errors[0].render()}")
    return Edit(path, field_name, old, new)


def _value(incident: Incident, live_schedule: tuple[str, str, str | None] | None) -> tuple[str, str]:
    canonical, attribute, live = incident.canonical, incident.attribute, incident.live
    if canonical in ("schedule", "timezone") and live_schedule is not None:
        expression = canonical_cron(*live_schedule[:2])
        zone = live_schedule[2] or "UTC"
        return "schedule", f"cron({expression!r}, tz={zone!r})"
    if canonical == "timeout" and isinstance(live, int):
        return "timeout", repr(f"{live // 60}m" if live % 60 == 0 else f"{live}s")
    if canonical == "retry.attempts" and isinstance(live, int):
        return "retry.attempts", repr(live + 1 if attribute in RETRIES_ATTRIBUTES else live)
    raise LockstepError(f"drift adopt: {canonical} ({attribute}) cannot be adopted automatically; edit the "
                        f"workflow so that it declares {live!r}, then run `lockstep drift` again")


def canonical_cron(platform: str, expression: str) -> str:
    """Return the canonical 5-field cron of a live native cron expression (raise if it has no such form)."""
    fields = expression.removeprefix("cron(").removesuffix(")").split() if platform == "aws" else expression.split()
    if platform == "aws" and len(fields) == 6 and fields[5] == "*":
        minute, hour, dom, month, dow = (x.replace("?", "*") for x in fields[:5])
        if re.search(r"[LW#]", dom + dow):
            raise LockstepError(f"drift adopt: {expression} uses AWS-only day rules; edit the schedule by hand")
        dow = re.sub(r"\d+", lambda m: str(int(m.group()) - 1), dow)  # AWS numbers Sunday 1, cron 0
        return " ".join((minute, hour, dom, month, dow))
    if platform == "azure" and len(fields) == 6 and fields[0] == "0":
        return " ".join(fields[1:])
    if platform in ("gcp", "cron") and len(fields) == 5:
        return " ".join(fields)
    raise LockstepError(f"drift adopt: the live {platform} schedule {expression!r} has no canonical cron form; "
                        "edit the schedule by hand")


def _call(tree: ast.Module, name: str) -> ast.Call:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "workflow":
            for kw in node.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant) and kw.value.value == name:
                    return node
    raise LockstepError(f"drift adopt: no workflow(name={name!r}) call found")


def _node(call: ast.Call, dotted: str) -> ast.expr | None:
    head, _, rest = dotted.partition(".")
    value = next((kw.value for kw in call.keywords if kw.arg == head), None)
    if not rest or value is None:
        return value
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=False):
            if isinstance(key, ast.Constant) and key.value == rest:
                return item
    return None


def _splice(source: str, node: ast.expr, new: str) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()))
    data = source.encode()
    assert node.end_lineno is not None and node.end_col_offset is not None
    start = offsets[node.lineno - 1] + node.col_offset
    end = offsets[node.end_lineno - 1] + node.end_col_offset
    return (data[:start] + new.encode() + data[end:]).decode()
