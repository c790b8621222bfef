"""Read the ledger branch from a clone: fetch it, then list every commit with what it added and how it is signed.

Nothing here trusts the ledger: the commits are listed as git has them (a merge, a second root, an edited file are
all reported by the chain check, not hidden), and signatures are checked only against the trust root the auditor
passes (`gpg.ssh.allowedSignersFile` is set on the command line for this one git run; the repository's own
configuration and files are never the trust root).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import LockstepError, UsageError
from infra.ledger.store import BRANCH

AUDIT_REF = "refs/lockstep/audit/ledger"
_RS, _US = "\x1e", "\x1f"


@dataclass(frozen=True)
class Change:
    """One file a ledger commit added, modified or deleted."""

    status: str   # A | M | D | ...
    path: str
    blob: str     # the new blob id ('' for a deletion)


@dataclass(frozen=True)
class LedgerCommit:
    """One commit of the ledger branch, as git records it."""

    sha: str
    parents: tuple[str, ...]
    committed: int               # committer time (unix seconds; the writer's clock)
    signature: str               # git's %G?: G good (a trusted key), U unknown key, B bad, N none, E unverifiable
    signer: str                  # the principal of a good signature
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class LedgerCopy:
    """The ledger branch as read from the clone: its tip, its commits oldest first, and the blobs they added."""

    source: str
    tip: str | None
    commits: tuple[LedgerCommit, ...]
    blobs: dict[str, bytes] = field(default_factory=dict)
    signatures_checked: bool = False


def git(root: Path, *args: str, data: bytes | None = None, check: bool = True) -> bytes:
    """Run git in the clone; raise LockstepError naming the command when it fails (and `check`)."""
    done = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True, timeout=300)
    if check and done.returncode != 0:
        raise LockstepError(f"git {args[0]} in {root} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def require_clone(root: Path) -> None:
    """Raise UsageError unless `root` is (inside) a git clone."""
    if not (root / ".git").exists() and git(root, "rev-parse", "--is-inside-work-tree", check=False).strip() != b"true":
        raise UsageError(f"--root {root}: not a git clone; clone the repository and run the audit there")


def fetch(root: Path, remote: str, branch: str = BRANCH) -> str:
    """Fetch the ledger branch from `remote` into a ref of its own and return that ref ('' remote: use what is here)."""
    require_clone(root)
    if remote:
        done = subprocess.run(["git", "-C", str(root), "fetch", "-q", "--no-tags", remote,
                               f"+refs/heads/{branch}:{AUDIT_REF}"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise LockstepError(f"cannot fetch {branch} from {remote!r}: {done.stderr.strip()}; pass --ledger-remote "
                                "NAME|URL, or --no-fetch to audit the ledger branch already in this clone")
        return AUDIT_REF
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}", AUDIT_REF):
        if git(root, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False).strip():
            return ref
    raise LockstepError(f"no ledger branch {branch} in {root}: fetch it (git fetch origin {branch}) or drop --no-fetch")


def read(root: Path, ref: str, trust: Path | None) -> LedgerCopy:
    """Return every commit of the ledger ref with its changes and signature status, and the blobs they added."""
    tip = git(root, "rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False).decode().strip() or None
    if tip is None:
        return LedgerCopy(ref, None, ())
    config = ["-c", f"gpg.ssh.allowedSignersFile={trust}"] if trust else []
    fmt = f"{_RS}%H{_US}%P{_US}%ct{_US}" + (f"%G?{_US}%GS" if trust else f"-{_US}")
    out = git(root, *config, "log", "--reverse", "--topo-order", "--root", "--raw", "--no-abbrev", "--no-renames",
              f"--format={fmt}", tip).decode(errors="replace")
    commits = [_commit(chunk) for chunk in out.split(_RS) if chunk.strip()]
    wanted = sorted({c.blob for commit in commits for c in commit.changes if c.blob})
    return LedgerCopy(ref, tip, tuple(commits), _blobs(root, wanted), trust is not None)


def _commit(chunk: str) -> LedgerCommit:
    head, _, raw = chunk.partition("\n")
    sha, parents, committed, sig, signer = (head.split(_US) + [""] * 5)[:5]
    changes = []
    for line in raw.splitlines():
        if not line.startswith(":"):
            continue
        meta, _, path = line.partition("\t")
        fields = meta.split()
        status, blob = fields[-1], fields[3]
        changes.append(Change(status[0], path, "" if set(blob) == {"0"} else blob))
    return LedgerCommit(sha, tuple(parents.split()), int(committed or 0), sig, signer.strip(), tuple(changes))


def _blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    """Read many blobs in one `git cat-file --batch`."""
    if not shas:
        return {}
    out = git(root, "cat-file", "--batch", data=("\n".join(shas) + "\n").encode())
    blobs, pos = {}, 0
    for sha in shas:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) < 3:
            pos = end + 1
            continue
        size = int(header[2])
        blobs[sha] = out[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
    return blobs
