"""Tampering with a copy of the recorded ledger the way someone with push access (and perhaps the signing key) would:
edit an entry in place, rebuild the branch with an entry changed, dropped, swapped or backdated, or forge a
self-consistent branch. Each rebuild force-moves `lockstep/ledger` in the copy's repository.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from collections.abc import Callable
from pathlib import Path

from infra.audit.verify import Request, Verdict, verify
from infra.ledger import objects
from infra.ledger.entry import GENESIS, Entry
from infra.ledger.store import BRANCH, IDENTITY, GitLedger
from tests.audit.history import History
from tests.rollout.support import git


def auditor_clone(h: History, dest: Path) -> Path:
    """Clone the repository as an auditor would (main only; the audit fetches the ledger branch itself)."""
    dest.mkdir(parents=True, exist_ok=True)
    clone = dest / "audit-clone"
    git(dest, "clone", "-q", "--single-branch", "-b", "main", str(h.origin), str(clone))
    return clone


def audit(h: History, dest: Path, *, trust: bool = False, checkpoints: tuple[str, ...] = (),
          since: str = "") -> Verdict:
    """Run the verification on a fresh clone of the history (signatures only when `trust`)."""
    return verify(Request(auditor_clone(h, dest), h.trust if trust else None, checkpoints, since))


def entries(h: History) -> list[Entry]:
    """Return the ledger's entries, as written."""
    return list(GitLedger(str(h.origin)).read())


def ledger_commits(h: History) -> list[str]:
    """Return the ledger branch's commits, oldest first."""
    return git(h.origin, "rev-list", "--reverse", BRANCH).split()


def edit_in_place(h: History, seq: int, edit: Callable[[str], str]) -> None:
    """Commit an edited entry file on top of the branch (the naive rewrite)."""
    work = h.origin.parent / "edit"
    git(h.origin.parent, "clone", "-q", "-b", BRANCH, str(h.origin), str(work))
    path = work / f"{seq:08d}.json"
    path.write_text(edit(path.read_text()))
    git(work, "commit", "-qam", "fix a typo")
    git(work, "push", "-q", "origin", f"HEAD:{BRANCH}")


def rebuild(h: History, keep: int, blobs: list[bytes], *, key: Path | None = None) -> None:
    """Replace the branch: the first `keep` commits as they are, then one commit per blob (signed with `key`)."""
    shas = ledger_commits(h)
    tip = shas[keep - 1] if keep else None
    files = {} if tip is None else {line.split("\t")[1]: line.split()[2]
                                    for line in git(h.origin, "ls-tree", tip).splitlines()}
    odb = Path(git(h.origin, "rev-parse", "--git-common-dir").strip())
    odb = odb if odb.is_absolute() else h.origin / odb
    for i, raw in enumerate(blobs, start=keep + 1):
        files[f"{i:08d}.json"] = objects.write(odb, "blob", raw)
        tree = objects.write(odb, "tree", objects.tree(files))
        if key is None:
            tip = objects.write(odb, "commit", objects.commit(tree, tip, IDENTITY, f"entry #{i}\n"))
        else:
            tip = subprocess.run(["git", "-C", str(h.origin), "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}",
                                  "commit-tree", tree, "-S", "-m", f"entry #{i}", *(["-p", tip] if tip else [])],
                                 capture_output=True, text=True, check=True,
                                 env={**IDENTITY, "PATH": "/usr/bin:/bin"}).stdout.strip()
    git(h.origin, "update-ref", f"refs/heads/{BRANCH}", str(tip))


def relinked(chain: list[Entry], start: int) -> list[bytes]:
    """Return the entries from index `start` on, renumbered and re-linked so the chain is consistent again."""
    out: list[bytes] = []
    prev = chain[start - 1].digest() if start else GENESIS
    for n, e in enumerate(chain[start:], start=start + 1):
        fixed = dataclasses.replace(e, seq=n, prev=prev)
        out.append(fixed.canonical())
        prev = fixed.digest()
    return out


def backdate(e: Entry, days: int) -> Entry:
    """Return the entry with its time moved back."""
    return dataclasses.replace(e, at=(dt.datetime.fromisoformat(e.at) - dt.timedelta(days=days)).isoformat())
