"""What every report format says the same way: the verdict, the header lines, and changes grouped for review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infra.preflight.plan import Change, counts
from infra.preflight.review import only_stamps, stamp_pairs
from infra.preflight.run import Preview

SAME_MEANS = '"same" means unchanged from the base revision; nothing here is compared with what is deployed'
MAX_LEAVES = 12  # per resource; the JSON report has them all


def verdict(p: Preview) -> str:
    """Return the one-line verdict over every target."""
    if p.cannot_run:
        return f"BLOCKED: the preview could not run, so nothing in stack {p.stack} was previewed: {p.cannot_run}"
    if p.errors:
        return (f"BLOCKED: the repository does not load ({len(p.errors)} error(s)); nothing in stack {p.stack} "
                "was previewed or counts as validated until every error is fixed")
    blocking = [v for v in p.violations if v.blocking]
    off = _off_summary(p)
    if not blocking:
        return f"PASS: every policy passes on every target of stack {p.stack} ({', '.join(p.targets)}){off}"
    failed = sorted({v.target for v in blocking})
    return (f"BLOCKED: {len(blocking)} mandatory violation(s) on {', '.join(failed)}; nothing in stack {p.stack} "
            f"counts as validated until every target passes{off}")


def _off_summary(p: Preview) -> str:
    table = counts(p.changes)
    parts = [f"{t} is switched off and loses {table[t]['delete']} resource(s)"
             + (f" (acknowledged: {p.off[t]})" if t in p.off else "")
             for t in p.rows() if t not in p.targets and t in table]
    return "; " + "; ".join(parts) if parts else ""


def header(p: Preview) -> list[str]:
    """Return the lines that say what was compared with what."""
    if p.cannot_run:
        return [f"head: {p.head or '(unknown)'}", "base: (not compared: the preview could not run)"]
    if p.errors:
        return [f"head: {p.head or '(unknown)'}", "base: (not compared: the head does not load)"]
    base = f"{p.base[:12]} ({p.base_how})" if p.base else "(none: --no-base, every resource shows as a create)"
    return [f"head: {p.head or '(unknown)'}", f"base: {base}", SAME_MEANS]


def row_label(p: Preview, target: str) -> str:
    """Return a summary row's target label: marked when the stack switches the target off."""
    return target if target in p.targets else f"{target} (off)"


@dataclass(frozen=True)
class Group:
    """One workflow's changes on one target: what to show in full, and the changes that only restamp."""

    workflow: str
    target: str
    shown: tuple[Change, ...]
    stamps_only: tuple[Change, ...]


def groups(changes: Sequence[Change]) -> list[Group]:
    """Group the changes of deployed resources by workflow, then target; separate the restamp-only updates."""
    order: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        if c.op != "same" and c.resource.custom:
            order.setdefault((c.resource.workflow or "-", c.resource.target), []).append(c)
    out = []
    for (workflow, target), items in sorted(order.items()):
        pairs = stamp_pairs([leaf for c in items for leaf in c.leaf_changes()])
        quiet = tuple(c for c in items if c.op == "update" and _restamp(c, pairs))
        out.append(Group(workflow, target, tuple(c for c in items if c not in quiet), quiet))
    return out


def _restamp(c: Change, pairs: dict[str, str]) -> bool:
    leaves = c.leaf_changes()
    return bool(leaves) and all(only_stamps(leaf, pairs) for leaf in leaves)


def runs(changes: Sequence[Change]) -> list[tuple[str, list[Change]]]:
    """Gather replacements that share one reason (said once, above them); every other change stands alone."""
    out: list[tuple[str, list[Change]]] = []
    shared: dict[tuple[str, ...], list[Change]] = {}
    for c in changes:
        if c.op == "replace" and c.why in shared:
            shared[c.why].append(c)
            continue
        items = [c]
        if c.op == "replace":
            shared[c.why] = items
        out.append(("; ".join(c.why), items))
    return out


def run_title(why: str, items: Sequence[Change]) -> str:
    """Return the headline of a run: the change's own title, or `N replace — forced by …:` for several."""
    return change_title(items[0]) if len(items) == 1 else f"{len(items)} replace — forced by {why}:"


def change_title(c: Change) -> str:
    """Return one change's headline: op, type, name, and why it replaces."""
    why = f" — forced by {'; '.join(c.why)}" if c.why else ""
    live = f" (live {c.resource.import_id}{', then update' if c.live else ''})" if c.op == "import" else ""
    return f"{c.op} {c.resource.type} {c.resource.name}{live}{why}"


def leaf_lines(c: Change, pairs: dict[str, str] | None = None) -> list[str]:
    """Return `path: old → new` for a change's leaves (none for creates and deletes: every leaf would be new)."""
    if c.op == "import":  # what the update right after the import changes: live (as adopt read it) → declared
        return [f"{path}: {old} (live) → {new}" for path, old, new in c.live[:MAX_LEAVES]]
    if c.op in ("create", "delete"):
        return []
    leaves = [leaf for leaf in c.leaf_changes() if not (pairs and only_stamps(leaf, pairs))]
    lines = [f"{path}: {old if old is not None else '(unset)'} → {new if new is not None else '(unset)'}"
             for path, old, new in leaves[:MAX_LEAVES]]
    if len(leaves) > MAX_LEAVES:
        lines.append(f"… {len(leaves) - MAX_LEAVES} more changed value(s) (see --format json)")
    return lines


def group_pairs(g: Group) -> dict[str, str]:
    """Return the stamp pairs of a group (old digest/commit -> new) for hiding restamp-only leaves."""
    return stamp_pairs([leaf for c in (*g.shown, *g.stamps_only) for leaf in c.leaf_changes()])


def tally(g: Group) -> str:
    """Return a group's counts the way `pulumi preview` words them, e.g. '1 to update, 9 only restamped'."""
    ops: dict[str, int] = {}
    for c in g.shown:
        ops[c.op] = ops.get(c.op, 0) + 1
    parts = [f"{n} to {op}" for op, n in ops.items()]
    if g.stamps_only:
        parts.append(f"{len(g.stamps_only)} only restamped")
    return ", ".join(parts)
