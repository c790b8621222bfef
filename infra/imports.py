"""Import records: which live resources a workflow's children adopt on the next `pulumi up`, per stack and target.

`lockstep import adopt` writes `workflows/<file>.import.json` beside the workflow file it writes. The program reads
it and passes Pulumi's `import_` resource option, with the live resource's ID and its live physical names, to
exactly the children it lists. The IDs name resources, they grant nothing: they are not secrets, and the record is
committed and reviewed with the workflow file. Once every stack it lists has been updated, the record no longer
matters (a resource already in the stack with that ID is managed like any other) and may be deleted.

    {"workflow": "nightly-report",
     "stacks": {"staging": {"aws": {"function": {"id": "nightly-report", "name": "nightly-report"},
                                    "schedule": {"id": "reports/nightly-report", "name": "nightly-report",
                                                 "group": "reports"}}}}}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from infra import naming
from infra.errors import SpecError
from infra.model import Workflow

SUFFIX = ".import.json"
NOTE = ("Live resources `lockstep import adopt` found for this workflow: the next `pulumi up` of each stack listed "
        "imports them (Pulumi's import option) instead of creating new ones. IDs are not secrets. Delete this file "
        "once every stack listed has been updated.")


@dataclass(frozen=True)
class LiveChild:
    """One child that exists live: its import ID (the provider's documented format) and its live names."""

    id: str
    names: Mapping[str, str]  # the physical names the child must keep ("name", "group"): a rename would replace
    # What adopt read live, by input leaf path ("scheduleExpression", "serviceConfig.timeoutSeconds"): the preview
    # shows a declared value that differs as the update Pulumi makes right after the import.
    live: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


Children = Mapping[str, LiveChild]  # one target's live children of a workflow, by role
Imports = Mapping[str, Children]  # target -> child role -> live child
NONE: Imports = MappingProxyType({})
NO_CHILDREN: Children = MappingProxyType({})


def physical_name(children: Children, role: str, lockstep: str, key: str = "name") -> str:
    """Return the physical name a child has on its platform: the live one its import record keeps, else Lockstep's.

    The one rule every component, live reader and audit lookup applies: each target's `names` (in its
    translate.py) passes Lockstep's own name for the role as `lockstep`, and `children` from the stack's record.
    """
    child = children.get(role)
    if child is None:
        return lockstep
    return child.names.get(key) or lockstep


def record_path(workflow_file: str) -> str:
    """Return the repo-relative record path of a workflow file (workflows/a.py -> workflows/a.import.json)."""
    return workflow_file.removesuffix(".py") + SUFFIX


def read(root: Path, workflow_file: str, stack: str) -> Imports:
    """Return the live children a stack's record lists for a workflow (none when there is no record).

    Raises ValueError for a record `check` would refuse; validation reports it first, with its line.
    """
    path = root / record_path(workflow_file)
    if not path.is_file():
        return NONE
    data = json.loads(path.read_text(encoding="utf-8"))
    stacks = data.get("stacks") if isinstance(data, dict) else None
    found = stacks.get(stack) if isinstance(stacks, dict) else None
    if not isinstance(found, dict):
        return NONE
    return MappingProxyType({
        target: MappingProxyType({role: _child(c) for role, c in children.items()})
        for target, children in found.items()})


def children(root: Path, workflow_file: str, stack: str, target: str) -> Children:
    """Return the live children a stack's record lists for a workflow on one target (none without a record)."""
    return read(root, workflow_file, stack).get(target) or NO_CHILDREN


def _child(raw: Any) -> LiveChild:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ValueError(f"an import record child must be an object with a non-empty 'id', not {raw!r}")
    live = raw.get("live") or {}
    if not isinstance(live, dict):
        raise ValueError(f"an import record child's 'live' must be an object, not {live!r}")
    return LiveChild(raw["id"], MappingProxyType({k: str(v) for k, v in raw.items() if k not in ("id", "live")}),
                     MappingProxyType(dict(live)))


def live_values(root: Path, workflows: Sequence[Workflow], stack: str) -> dict[tuple[str, str], Mapping[str, object]]:
    """Return what adopt read live, by (target, child logical name), for every workflow with a record."""
    return {(target, naming.logical(wf.name, role)): child.live for wf in workflows
            for target, children in read(root, wf.location.path, stack).items()
            for role, child in children.items() if child.live}


def adopted(root: Path, workflows: Sequence[Workflow], stack: str) -> dict[tuple[str, str], str]:
    """Return the workflow whose record adopts each live resource on a stack, by (target, import ID).

    A record `check` would refuse adopts nothing here: validation reports it, with its line.
    """
    out: dict[tuple[str, str], str] = {}
    for wf in workflows:
        try:
            found = read(root, wf.location.path, stack)
        except ValueError:
            continue
        out.update({(target, child.id): wf.name for target, children in found.items() for child in children.values()})
    return out


def digest(root: Path, workflow_file: str) -> str:
    """Return the sha256 of a workflow's record ("" when there is none): a preview cache key part."""
    path = root / record_path(workflow_file)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def render(workflow: str, stacks: Mapping[str, Mapping[str, Mapping[str, LiveChild]]]) -> str:
    """Return a record's text: stable key order, one child per line, so a PR shows what each stack imports."""
    body = {"note": NOTE, "workflow": workflow, "stacks": {
        stack: {t: {role: {"id": c.id, **dict(c.names), **({"live": dict(c.live)} if c.live else {})}
                    for role, c in sorted(children.items())}
                for t, children in sorted(targets.items())}
        for stack, targets in sorted(stacks.items())}}
    return json.dumps(body, indent=2) + "\n"


def check(root: Path, workflow_file: str, workflow: str, stacks: set[str],
          importable: Mapping[str, Mapping[str, tuple[str, ...]]]) -> list[SpecError]:
    """Return every problem of a workflow's record: JSON, workflow name, stacks, targets, roles, ids and names.

    `importable` is, per target, the child roles that take an import and the names each must carry.
    """
    rel = record_path(workflow_file)
    path = root / rel
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        return [SpecError(rel, line, "import", rel, "the record is not JSON", f"fix it at line {line}: {exc}")]
    if not isinstance(data, dict) or not isinstance(data.get("stacks"), dict):
        return [SpecError(rel, 1, "import.stacks", None, "the record has no 'stacks' object",
                          "write {\"workflow\": ..., \"stacks\": {STACK: {TARGET: {ROLE: {\"id\": ...}}}}}")]
    out = []
    if data.get("workflow") != workflow:
        out.append(SpecError(rel, _line(text, "workflow"), "import.workflow", data.get("workflow"),
                             f"the record names workflow {data.get('workflow')!r}, but {workflow_file} declares "
                             f"{workflow!r}", f"set \"workflow\": {json.dumps(workflow)}"))
    for stack, targets in data["stacks"].items():
        if stack not in stacks:
            out.append(SpecError(rel, _line(text, stack), f"import.stacks.{stack}", stack,
                                 f"there is no Pulumi.{stack}.yaml",
                                 f"name one of {', '.join(sorted(stacks)) or '(no stack)'}"))
            continue
        out += _check_targets(rel, text, stack, targets, importable)
    return out


def _check_targets(rel: str, text: str, stack: str, targets: Any,
                   importable: Mapping[str, Mapping[str, tuple[str, ...]]]) -> list[SpecError]:
    if not isinstance(targets, dict):
        return [SpecError(rel, _line(text, stack), f"import.stacks.{stack}", targets, "is not an object of targets",
                          "write {TARGET: {ROLE: {\"id\": ...}}}")]
    out = []
    for target, children in targets.items():
        roles = importable.get(target)
        field = f"import.stacks.{stack}.{target}"
        if roles is None or not isinstance(children, dict):
            out.append(SpecError(rel, _line(text, target), field, target, "takes no import record",
                                 f"list children of {', '.join(sorted(importable))} only"))
            continue
        for role, child in children.items():
            out += _check_child(rel, text, f"{field}.{role}", role, child, roles)
    return out


def _check_child(rel: str, text: str, field: str, role: str, child: Any,
                 roles: Mapping[str, tuple[str, ...]]) -> list[SpecError]:
    line = _line(text, role)
    if role not in roles:
        return [SpecError(rel, line, field, role, "no child of that role takes an import on this target",
                          f"name one of {', '.join(sorted(roles))}")]
    if not isinstance(child, dict) or not isinstance(child.get("id"), str) or not child["id"].strip():
        return [SpecError(rel, line, field, child, "has no import ID",
                          "write {\"id\": \"<the ID the provider documents for import>\", ...}")]
    if not isinstance(child.get("live", {}), dict):
        return [SpecError(rel, line, f"{field}.live", child["live"], "is not an object",
                          "write {\"<input path>\": <the value adopt read live>, ...}, or leave it out")]
    missing = [n for n in roles[role] if not isinstance(child.get(n), str) or not child[n]]
    return [SpecError(rel, line, f"{field}.{n}", child.get(n),
                      "missing: the live name the child keeps" if child.get(n) in (None, "") else
                      "is not a name: the live name the child keeps is a non-empty string",
                      f"add \"{n}\": the live resource's {n} (a different one would replace it)") for n in missing]


def line_of(root: Path, workflow_file: str, key: str) -> int:
    """Return the line of a workflow's record that first holds `"key"` (1 when none does, or there is no record)."""
    path = root / record_path(workflow_file)
    return _line(path.read_text(encoding="utf-8"), key) if path.is_file() else 1


def _line(text: str, key: str) -> int:
    """Return the first line that holds `"key"` (1 when none does)."""
    needle = json.dumps(key)
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 1
