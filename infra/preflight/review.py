"""What a reviewer reads first: per-workflow diffs of canonical fields, the stack file's diff, and what "head" is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.digest import canonical_fields
from infra.gitinfo import GitError, git, is_work_tree
from infra.model import TARGETS, StackConfig, Workflow
from infra.preflight import values

STAMP_LEAVES = ("lockstep-digest", "lockstep-commit", "LOCKSTEP_DIGEST", "LOCKSTEP_COMMIT")


@dataclass(frozen=True)
class FieldDiff:
    """One workflow's (or one stack's) change: created, updated or deleted, with its fields old -> new."""

    name: str
    path: str
    op: str  # create | update | delete
    fields: tuple[tuple[str, str | None, str | None], ...]


def reviewed(wf: Workflow) -> dict[str, str]:
    """Return a workflow's canonical fields and local overrides as leaves (secret references are names only)."""
    data: dict[str, object] = dict(canonical_fields(wf))
    data["targets"] = {t.name: dict(t.overrides) for t in wf.targets}
    return values.leaves(data, "")


def workflow_diffs(base: Iterable[Workflow] | None, head: Iterable[Workflow]) -> list[FieldDiff]:
    """Return every workflow whose canonical fields or targets differ from the base, in head order, then deletions."""
    before = {wf.name: wf for wf in base or ()}
    out = []
    for wf in head:
        old = before.pop(wf.name, None)
        if old == wf:  # the same declaration (the head's own copy, reused for the base): nothing to compare
            continue
        changes = values.changed(reviewed(old) if old else {}, reviewed(wf))
        if changes:
            out.append(FieldDiff(wf.name, wf.location.path, "update" if old else "create", tuple(changes)))
    out.extend(FieldDiff(wf.name, wf.location.path, "delete", tuple(values.changed(reviewed(wf), {})))
               for wf in before.values())
    return out


def stack_diff(base: StackConfig | None, head: StackConfig) -> FieldDiff | None:
    """Return the stack configuration's changes from the base (None when equal or when there is no base)."""
    if base is None:
        return None

    def leaves(stack: StackConfig) -> dict[str, str]:
        data = dataclasses.asdict(stack)
        for key in ("name", "path", "off_lines"):
            data.pop(key, None)
        data.update({t: "(off)" for t in TARGETS if data.get(t) is None})
        data["switched_off"] = dict(stack.switched_off) or "(none)"
        return values.leaves(data, "")
    changes = values.changed(leaves(base), leaves(head))
    return FieldDiff(head.name, head.path, "update", tuple(changes)) if changes else None


def stamp_pairs(changes: Sequence[tuple[str, str | None, str | None]]) -> dict[str, str]:
    """Return {old stamp value: new stamp value} from the digest and commit stamps among these leaf changes."""
    out = {}
    for path, old, new in changes:
        if path.rsplit(".", 1)[-1] in STAMP_LEAVES and old and new:
            out[old.strip('"')] = new.strip('"')
    return out


def only_stamps(change: tuple[str, str | None, str | None], pairs: Mapping[str, str]) -> bool:
    """Tell whether a leaf changes only because a digest or commit stamp it carries changed."""
    _, old, new = change
    if old is None or new is None or not pairs:
        return False
    for a, b in pairs.items():
        old = old.replace(a, b)
    return old == new


INPUTS = ("workflows/", "infra/", "policies/")  # with the stack files: what the preview reads (not its own reports)


def _input(path: str) -> bool:
    """Tell whether a changed path is something the preview reads: a workflow, a stack file, the program or pack."""
    return path.startswith(INPUTS) or ("/" not in path and path.startswith("Pulumi.") and path.endswith(".yaml"))


def head_state(root: Path) -> str:
    """Describe what "head" is: HEAD's commit, plus the uncommitted files of the working tree if there are any."""
    if not is_work_tree(root):
        return "a directory outside git (nothing is committed)"
    try:
        commit = git(root, "rev-parse", "--short=12", "HEAD").strip()
    except GitError:  # a repository without a first commit yet
        commit = "(no commit yet)"
    dirty = [path for line in git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
             if _input(path := line[3:].strip('"'))]
    if not dirty:
        return f"HEAD {commit}"
    shown = ", ".join(dirty[:3]) + (", …" if len(dirty) > 3 else "")
    return f"working tree = HEAD {commit} + {len(dirty)} uncommitted file{'s' if len(dirty) > 1 else ''} ({shown})"
