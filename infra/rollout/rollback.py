"""Rollback: roll every wave the failed attempt touched forward to the last verified release, verify it, and look
for ghosts (any resource, on any target, still carrying the failed release's digest); then record the failed
release as bad, so re-running the same commit does not release it again without an explicit override.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from infra.preflight import base as base_rev
from infra.rollout import plan as planning
from infra.rollout.plan import Release, Wave
from infra.rollout.state import State
from infra.rollout.step import NEEDS_HUMAN, ROLLED_BACK, Halt, Rollout
from infra.rollout.verify import ghosts

_RELEASES: dict[tuple[str, str, str], Release] = {}  # one export per commit per process


def release_at(git_root: Path, stack: str, workdir: Path | None = None) -> Callable[[str], Release]:
    """Return commit -> its release to the stack, built from that commit's tree the way the preview builds its base
    revision (`git archive` into a temporary directory; stamps from the repository's history at that commit)."""
    def load(commit: str) -> Release:
        key = (str(git_root.resolve()), stack, commit)
        if key not in _RELEASES:
            parent = workdir or Path(tempfile.mkdtemp(prefix="lockstep-rollback-"))
            tree = base_rev.export(git_root, commit, parent)
            _RELEASES[key] = planning.load(tree, stack, commit, git_root=git_root)
        return _RELEASES[key]
    return load


def roll_back(r: Rollout, state: State) -> None:
    """Do (or finish, after a crash) the rollback of the current attempt; always ends in a Halt."""
    failed = r.release
    touched = [w for w, p in zip(failed.waves, state.waves, strict=True) if p.intent]
    good_commit = state.last_good
    if state.rollback is None:
        r.writer.record("rollback", commit=failed.commit, evidence={
            "phase": "start", "failed_commit": failed.commit, "to_commit": good_commit or "",
            "waves": [w.index for w in touched]})
        r.say(f"rolling back waves {[w.index + 1 for w in touched]} to {good_commit[:12] if good_commit else '—'}")
        r.checkpoint("rollback:start")
    if state.rollback != "done":
        problems = _restore(r, failed, touched, good_commit)
        r.writer.record("rollback", commit=failed.commit, evidence={
            "phase": "done", "failed_commit": failed.commit, "to_commit": good_commit or "",
            "result": "incomplete" if problems else "ok", "problems": problems})
        r.checkpoint("rollback:done")
    else:
        problems = [] if state.rollback_ok else ["the recorded rollback did not complete"]
    if not state.bad:
        r.writer.record("bad-release", commit=failed.commit, digests=failed.digests, evidence={
            "reason": "a wave failed or was inconclusive", "rolled_back_to": good_commit or ""})
        r.checkpoint("bad-release")
    if problems:
        raise Halt(NEEDS_HUMAN, "rollback incomplete: " + "; ".join(problems))
    raise Halt(ROLLED_BACK, f"{failed.commit[:12]} failed; every touched wave is back on {str(good_commit)[:12]}, "
               "verified, no ghosts; the commit is recorded as a bad release")


def _restore(r: Rollout, failed: Release, touched: list[Wave], good_commit: str | None) -> list[str]:
    """Apply and verify the good release on the touched waves; return what went wrong, ghosts included."""
    if good_commit is None or r.rollback_to is None:
        return ["no verified release of this stack to roll back to: the applied waves stay as they are; fix "
                "forward or restore by hand, then re-run"]
    good = r.rollback_to(good_commit)
    problems = []
    for w in touched:
        for gw in (g for g in good.waves if set(g.targets) & set(w.targets)):
            urns = tuple(dict.fromkeys(gw.urns + w.urns))  # the failed release's own resources are deleted too
            r.intent(gw, "rollback", good, rollback_of=failed.commit)
            if not r.apply(gw, "rollback", good, urns=urns, rollback_of=failed.commit):
                problems.append(f"wave {gw.index + 1}: the rollback apply failed")
            result = r.verify(gw, "rollback", good, rollback_of=failed.commit)
            if result != "pass":
                problems.append(f"wave {gw.index + 1}: the rolled-back state verifies {result}")
    bad = set(failed.digests.values()) - set(good.digests.values())
    workflows = {wf.name: wf for wf in failed.workflows} | {wf.name: wf for wf in good.workflows}
    found = ghosts(r.reader, good.stack, list(workflows.values()), bad)
    for ghost in found:
        r.say(f"  GHOST {ghost}")
    return problems + [f"ghost: {g}" for g in found]
