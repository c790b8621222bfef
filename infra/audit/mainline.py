"""The population an auditor samples from: every commit on `main` (first parent: each merge, as it landed) that
changed what Lockstep deploys — `workflows/`, `infra/`, `policies/` or a stack file `Pulumi.<stack>.yaml` — and
what the repository said each stack's waves were at a commit.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.audit.source import git
from infra.errors import UsageError

SCOPE = ("workflows/", "infra/", "policies/")
STACK_FILE = "Pulumi.*.yaml"
_RS, _US = "\x1e", "\x1f"


@dataclass(frozen=True)
class MainCommit:
    """One commit on main, oldest first, with whether it is in the audited scope."""

    sha: str
    committed: dt.datetime
    subject: str
    files: tuple[str, ...]

    @property
    def in_scope(self) -> bool:
        """Tell whether it changed what Lockstep deploys."""
        return any(f.startswith(SCOPE) or ("/" not in f and fnmatch.fnmatch(f, STACK_FILE)) for f in self.files)


def resolve_main(root: Path, main: str) -> str:
    """Return the commit `main` names in the clone (the branch, else origin's), or raise UsageError."""
    for ref in (main, f"origin/{main}", f"refs/remotes/origin/{main}"):
        sha = git(root, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False).decode().strip()
        if sha:
            return sha
    raise UsageError(f"--main {main}: no such branch in {git_root(root)}; fetch it (git fetch origin {main}) or name "
                     "the branch the pipeline deploys with --main")


def git_root(root: Path) -> str:
    """Return the clone's top-level directory, for messages."""
    return git(root, "rev-parse", "--show-toplevel", check=False).decode().strip() or str(root)


def population(root: Path, main_sha: str) -> list[MainCommit]:
    """Return every first-parent commit of main, oldest first, with the files each changed."""
    out = git(root, "log", "--first-parent", "--diff-merges=first-parent", "--reverse", "--name-only",
              f"--format={_RS}%H{_US}%ct{_US}%s", main_sha).decode(errors="replace")
    found = []
    for chunk in out.split(_RS):
        if not chunk.strip():
            continue
        head, _, names = chunk.partition("\n")
        sha, ct, subject = ([*head.split(_US), "", "0", ""])[:3]
        found.append(MainCommit(sha, dt.datetime.fromtimestamp(int(ct), dt.UTC), subject,
                                tuple(n for n in names.splitlines() if n.strip())))
    return found


def since_filter(root: Path, value: str, commits: list[MainCommit]) -> tuple[set[str], dt.datetime | None]:
    """Return (the main commits after --since, the date it names); `value` is a revision or a date."""
    when = _date(value)
    if when is not None:
        return {c.sha for c in commits if c.committed >= when}, when
    sha = git(root, "rev-parse", "-q", "--verify", f"{value}^{{commit}}", check=False).decode().strip()
    if not sha:
        raise UsageError(f"--since {value!r}: is neither a commit of this clone nor a date; pass a revision (a sha, "
                         "a tag, main~20) or a date such as 2026-11-01 or 2026-11-01T09:00:00+00:00")
    shas = [c.sha for c in commits]
    if sha not in shas:
        raise UsageError(f"--since {value}: {sha[:12]} is not on main's first-parent history; name a merge on main")
    after = shas[shas.index(sha) + 1:]
    return set(after), next((c.committed for c in commits if c.sha == sha), None)


def _date(value: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def waves_at(root: Path, commit: str, stack: str) -> list[tuple[str, ...]] | None:
    """Return the waves `Pulumi.<stack>.yaml` configured at the commit, or None when it cannot be read."""
    raw = git(root, "show", f"{commit}:Pulumi.{stack}.yaml", check=False)
    try:
        doc: Any = yaml.safe_load(raw) if raw else None
        waves = doc["config"]["lockstep:rollout"]["waves"]
        return [tuple(str(t) for t in wave) for wave in waves]
    except (yaml.YAMLError, KeyError, TypeError):
        return None
