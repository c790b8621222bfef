"""Where the equivalence horizon starts: at the commit's date, so the same commit always gets the same verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from infra.gitinfo import git, is_work_tree

DEFAULT_DAYS = 400
MAX_DAYS = 3660  # ten years: beyond that the tz database's future rules are guesses anyway
# What the verdict depends on in a repository; a change elsewhere does not move the anchor.
WATCHED = ("workflows", "Pulumi.*.yaml")


@dataclass(frozen=True)
class Horizon:
    """The window over which fire times are compared, and why it starts where it does."""

    start: dt.datetime
    days: int
    anchor: str

    def describe(self) -> str:
        """Return e.g. '400 days from 2026-11-30T09:12Z (the date of commit 1a2b3c4d)'."""
        return f"{self.days} days from {self.start.strftime('%Y-%m-%dT%H:%MZ')} ({self.anchor})"

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready mapping."""
        return {"start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"), "days": self.days, "anchor": self.anchor}


def anchored(root: Path, days: int = DEFAULT_DAYS, start: dt.datetime | None = None) -> Horizon:
    """Return the horizon: from `start` if given, else HEAD's commit date when the workflows are committed, else now."""
    if start is not None:
        return Horizon(_minute(start), days, "given by --start")
    now = _minute(dt.datetime.now(dt.UTC))
    if not is_work_tree(root):
        return Horizon(now, days, "now: not a git checkout, so no commit date to anchor at")
    if git(root, "rev-list", "--count", "--all").strip() == "0":
        return Horizon(now, days, "now: nothing is committed yet")
    if git(root, "status", "--porcelain", "--untracked-files=all", "--", *WATCHED):
        return Horizon(now, days, "now: the working tree has uncommitted changes to the workflows or stacks")
    commit, _, stamp = git(root, "log", "-1", "--format=%H %cI", "HEAD").strip().partition(" ")
    return Horizon(_minute(dt.datetime.fromisoformat(stamp)), days, f"the date of commit {commit[:12]}")


def _minute(t: dt.datetime) -> dt.datetime:
    t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).replace(second=0, microsecond=0)
