"""The ledger on a git branch: one commit per entry, appended by compare-and-swap pushes to the remote.

An append fetches the branch, builds the next entry on the tip it saw, and pushes that commit as a plain
fast-forward (never forced). When another writer appended first the remote refuses the push, and the append starts
again from the new tip, re-running its admission check (the lease fence) against it: two writers cannot both win, and
a writer whose lease was taken over is refused by the check, not by timing. Entries are SSH-signed when a signing key
is configured and verified against an allowed-signers file.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from infra.errors import LockstepError
from infra.ledger import objects
from infra.ledger.entry import GENESIS, Entry, EntryError, check, parse

BRANCH = "lockstep/ledger"
IDENTITY = {"GIT_AUTHOR_NAME": "lockstep ledger", "GIT_AUTHOR_EMAIL": "ledger@lockstep.invalid",
            "GIT_COMMITTER_NAME": "lockstep ledger", "GIT_COMMITTER_EMAIL": "ledger@lockstep.invalid"}
_INIT = threading.Lock()
_UNSEEN = object()  # no tip read yet (None means: the ledger is empty)
SIGNING_KEY_ENV = "LOCKSTEP_LEDGER_SIGNING_KEY"
ALLOWED_SIGNERS_ENV = "LOCKSTEP_LEDGER_ALLOWED_SIGNERS"


class LedgerError(LockstepError):
    """The ledger cannot be read or written (remote unreachable, broken chain, bad signature)."""


class AlreadyAppended(Exception):
    """Raised by a `make` that finds its own entry already in the chain: a retried append that had landed."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(entry.seq)
        self.entry = entry


@dataclass(frozen=True)
class Signing:
    """SSH signing of entries: the private key that signs, the allowed-signers file that verifies."""

    key: Path | None = None
    allowed_signers: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Signing:
        """Return the signing configured by $LOCKSTEP_LEDGER_SIGNING_KEY and $LOCKSTEP_LEDGER_ALLOWED_SIGNERS."""
        key, signers = env.get(SIGNING_KEY_ENV), env.get(ALLOWED_SIGNERS_ENV)
        return cls(Path(key) if key else None, Path(signers) if signers else None)


@dataclass
class GitLedger:
    """The ledger branch of one remote (a URL or a path to a bare repository), read and appended through a cache."""

    remote: str
    branch: str = BRANCH
    signing: Signing = field(default_factory=Signing)
    cache: Path | None = None
    attempts: int = 200
    _tip: object = field(default=None, repr=False)
    # Content-addressed, so shared by every handle in the process: commit -> entry, tip -> chain, commit -> tree.
    _parsed: ClassVar[dict[str, Entry]] = {}
    _order: ClassVar[dict[str, list[str]]] = {}
    _trees: ClassVar[dict[str | None, dict[str, str]]] = {}
    _caches: ClassVar[dict[str, Path]] = {}

    def __post_init__(self) -> None:
        with _INIT:
            if self.cache is None:  # one object cache per remote per process: a new handle fetches only what is new
                self.cache = self._caches.setdefault(self.remote, Path(tempfile.mkdtemp(prefix="lockstep-ledger-")))
            if not (self.cache / "HEAD").exists():
                self._git("init", "-q", "--bare", str(self.cache), at=None)
        self._tip = _UNSEEN

    def tip(self) -> str | None:
        """Return the remote branch's tip commit, or None when the ledger has no entry yet."""
        out = self._git("ls-remote", self.remote, f"refs/heads/{self.branch}")
        return out.split()[0] if out.strip() else None

    def read(self, *, fresh: bool = True) -> list[Entry]:
        """Return the entries in chain order, checking every link; `fresh=False` reuses the last tip seen."""
        if fresh or self._tip is _UNSEEN:
            self._tip = self._fetch()
        return self._entries(self._tip if isinstance(self._tip, str) else None)

    def append(self, make: Callable[[list[Entry]], Entry]) -> Entry:
        """Append the entry `make(chain)` builds on the tip last seen; on refusal re-read and build again.

        The push is the compare-and-swap: it succeeds only if the remote is still at the tip `make` saw, so the
        fence that `make` checks held on exactly the chain the entry extends.
        """
        if self._tip is _UNSEEN:
            self._tip = self._fetch()
        for attempt in range(self.attempts):
            tip = self._tip if isinstance(self._tip, str) else None
            chain = self._entries(tip)
            try:
                entry = make(chain)  # may refuse (a fence)
            except AlreadyAppended as done:
                return done.entry
            expected = chain[-1].digest() if chain else GENESIS
            if entry.seq != len(chain) + 1 or entry.prev != expected:
                raise LedgerError(f"entry {entry.seq} does not extend the chain at {len(chain)} (a bug)")
            check(entry)
            commit = self._commit(tip, entry)
            if self._push(commit):
                self._parsed[commit] = entry
                self._tip = commit
                return entry
            time.sleep(random.uniform(0.002, 0.02) * min(attempt + 1, 8))  # let the winner's push land
            self._tip = self._fetch()
        raise LedgerError(f"could not append to {self.branch} on {self.remote} after {self.attempts} attempts: "
                          "other writers kept winning; re-run")

    def verify_signatures(self) -> list[str]:
        """Return one problem per entry whose signature does not verify against the allowed signers."""
        if self.signing.allowed_signers is None:
            raise LedgerError(f"no allowed-signers file: set ${ALLOWED_SIGNERS_ENV} to verify the ledger")
        problems = []
        for sha in self._commits(self._fetch()):
            done = self._run("-c", f"gpg.ssh.allowedSignersFile={self.signing.allowed_signers}", "verify-commit",
                             sha)
            if done.returncode != 0:
                last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no signature"
                problems.append(f"{sha[:12]}: {last}")
        return problems

    def _fetch(self) -> str | None:
        tip = self.tip()
        if tip is not None and not self._has(tip):
            self._git("fetch", "-q", "--no-write-fetch-head", self.remote, f"refs/heads/{self.branch}")
        return tip

    def _has(self, sha: str) -> bool:
        if self.cache is not None and objects.exists(self.cache, sha):
            return True
        return self._run("cat-file", "-e", f"{sha}^{{commit}}").returncode == 0

    def _commits(self, tip: str | None) -> list[str]:
        if tip is None:
            return []
        if tip in self._order:
            return self._order[tip]
        lines = self._git("rev-list", "--reverse", "--parents", tip).splitlines()
        out = []
        for line in lines:
            sha, *parents = line.split()
            if len(parents) > 1:
                raise LedgerError(f"ledger commit {sha[:12]} is a merge: the ledger is a single chain")
            out.append(sha)
        self._order[tip] = out
        return out

    def _entries(self, tip: str | None) -> list[Entry]:
        shas = self._commits(tip)
        missing = [(i, sha) for i, sha in enumerate(shas) if sha not in self._parsed]
        if missing:
            blobs = self._batch([f"{sha}:{i + 1:08d}.json" for i, sha in missing])
            for (_i, sha), raw in zip(missing, blobs, strict=True):
                try:
                    self._parsed[sha] = parse(raw)
                except EntryError as exc:
                    raise LedgerError(f"ledger commit {sha[:12]}: {exc}") from exc
        chain: list[Entry] = []
        for sha in shas:
            entry = self._parsed[sha]
            expected = chain[-1].digest() if chain else GENESIS
            if entry.seq != len(chain) + 1 or entry.prev != expected:
                raise LedgerError(f"ledger commit {sha[:12]}: entry {entry.seq} does not link to entry "
                                  f"{len(chain)} (prev {entry.prev[:12]}, expected {expected[:12]}): the chain "
                                  "was rewritten")
            chain.append(entry)
        return chain

    def _batch(self, specs: list[str]) -> list[bytes]:
        """Read many blobs in one `git cat-file --batch`; a missing one means the chain was tampered with."""
        out = self._git_bytes("cat-file", "--batch", data=("\n".join(specs) + "\n").encode())
        blobs, pos = [], 0
        for spec in specs:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            if len(header) < 3 or header[1] != b"blob":
                raise LedgerError(f"ledger object {spec} is missing: the chain was rewritten")
            size = int(header[2])
            blobs.append(out[header_end + 1: header_end + 1 + size])
            pos = header_end + 1 + size + 1
        return blobs

    def _commit(self, tip: str | None, entry: Entry) -> str:
        """Write the entry's blob, the tree (every entry file), and the commit on `tip`."""
        assert self.cache is not None
        blob = objects.write(self.cache, "blob", entry.canonical())
        files = dict(self._trees.get(tip, {})) if tip else {}
        if tip and tip not in self._trees:
            for line in self._git("ls-tree", tip).splitlines():
                meta, name = line.split("\t", 1)
                files[name] = meta.split()[2]
        files[f"{entry.seq:08d}.json"] = blob
        tree = objects.write(self.cache, "tree", objects.tree(files))
        message = f"{entry.kind} {entry.stack} #{entry.seq} (epoch {entry.epoch})\n"
        if self.signing.key is not None:
            args = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={self.signing.key}", "commit-tree", tree,
                    "-S", "-m", message.strip(), *(["-p", tip] if tip else [])]
            commit = self._git(*args).strip()
        else:
            commit = objects.write(self.cache, "commit", objects.commit(tree, tip, IDENTITY, message))
        self._trees[commit] = files
        return commit

    def _push(self, commit: str) -> bool:
        """Push as a fast-forward; False when the remote refused because the branch moved (or was locked)."""
        done = self._run("push", "-q", self.remote, f"{commit}:refs/heads/{self.branch}")
        if done.returncode == 0:
            return True
        err = done.stderr.lower()
        if any(w in err for w in ("rejected", "fetch first", "non-fast-forward", "lock", "stale info",
                                  "failed to update ref")):
            return False
        raise LedgerError(f"git push to {self.remote} failed: {done.stderr.strip()}")

    def _run(self, *args: str, data: bytes | None = None, at: str | None = "cache") -> Done:
        where = ["-C", str(self.cache)] if at == "cache" else []
        env = {**os.environ, **IDENTITY, "GIT_TERMINAL_PROMPT": "0"}
        done = subprocess.run(["git", *where, *args], input=data, capture_output=True, env=env, timeout=120)
        return Done(done.returncode, done.stdout, done.stderr.decode(errors="replace"))

    def _git_bytes(self, *args: str, data: bytes | None = None) -> bytes:
        done = self._run(*args, data=data)
        if done.returncode != 0:
            raise LedgerError(f"git {args[0]} on the ledger failed: {done.stderr.strip()}")
        return done.stdout

    def _git(self, *args: str, data: bytes | None = None, at: str | None = "cache") -> str:
        done = self._run(*args, data=data, at=at)
        if done.returncode != 0:
            raise LedgerError(f"git {args[0]} on the ledger at {self.remote} failed: {done.stderr.strip()}")
        return done.stdout.decode()


@dataclass(frozen=True)
class Done:
    """One git run: exit status, output bytes, error text."""

    returncode: int
    stdout: bytes
    stderr: str
