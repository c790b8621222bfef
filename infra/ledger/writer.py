"""A runner's handle on the ledger: take the stack's lease, append fenced entries, check the lease is still current."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.errors import LockstepError
from infra.ledger.entry import GENESIS, Entry, now
from infra.ledger.fence import DEFAULT_TTL_S, Fenced, acquisition, admit
from infra.ledger.store import AlreadyAppended, GitLedger

RECHECK_S = 0.5  # how stale the hook's view of the lease may be (one `git ls-remote` per interval)
LEASE_ENV = "LOCKSTEP_LEASE"  # JSON {remote, branch, stack, holder, epoch}: what the program's hook checks


def next_entry(chain: Sequence[Entry], **fields: Any) -> Entry:
    """Return the entry that extends `chain`: seq = length + 1, prev = the last entry's digest."""
    return Entry(seq=len(chain) + 1, prev=chain[-1].digest() if chain else GENESIS, at=fields.pop("at", None) or now(),
                 **fields)


@dataclass
class Writer:
    """One runner (holder) writing one stack's entries; `epoch` is 0 until it holds the lease."""

    ledger: GitLedger
    stack: str
    holder: str
    ttl_s: int = DEFAULT_TTL_S
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    epoch: int = 0
    _ops: int = 0

    def acquire(self, *, reclaim: bool = False, evidence: Mapping[str, Any] | None = None) -> Entry:
        """Take the stack's lease (epoch = last + 1) by CAS, or raise LeaseHeld naming who holds it since when."""
        def make(chain: list[Entry]) -> Entry:
            epoch, action, previous = acquisition(chain, self.stack, self.holder, self.clock(), reclaim)
            ev = {"action": action, "ttl_s": self.ttl_s, **({"previous_holder": previous} if previous else {}),
                  **(evidence or {})}
            return next_entry(chain, stack=self.stack, epoch=epoch, kind="lease", holder=self.holder, evidence=ev,
                              at=self._now())
        entry = self.ledger.append(make)
        self.epoch = entry.epoch
        return entry

    def record(self, kind: str, *, commit: str = "", digests: Mapping[str, str] | None = None,
               evidence: Mapping[str, Any] | None = None) -> Entry:
        """Append one entry under the lease; Fenced when the lease was taken over (checked on the tip pushed to).

        Each call carries an idempotency token (`op`): when a push landed but its answer was lost and the append is
        retried, the retry finds the token in the chain and returns that entry instead of writing a duplicate.
        """
        self._ops += 1
        op = f"{self.holder}/{self.epoch}/{self._ops}"

        def make(chain: list[Entry]) -> Entry:
            mine = next((e for e in reversed(chain) if e.evidence.get("op") == op), None)
            if mine is not None:
                raise AlreadyAppended(mine)
            admit(chain, self.stack, self.holder, self.epoch)
            return next_entry(chain, stack=self.stack, epoch=self.epoch, kind=kind, holder=self.holder,
                              commit=commit, digests=dict(digests or {}),
                              evidence={**(evidence or {}), "op": op}, at=self._now())
        return self.ledger.append(make)

    def record_unleased(self, kind: str, *, commit: str = "", digests: Mapping[str, str] | None = None,
                        evidence: Mapping[str, Any] | None = None) -> Entry:
        """Append an entry outside any lease (gate, break-glass): epoch 0, ordered only by the chain."""
        return self.ledger.append(lambda chain: next_entry(
            chain, stack=self.stack, epoch=0, kind=kind, holder=self.holder, commit=commit,
            digests=dict(digests or {}), evidence=dict(evidence or {}), at=self._now()))

    def heartbeat(self) -> Entry:
        """Renew the lease (a lease entry at the same epoch)."""
        return self.record("lease", evidence={"action": "renew", "ttl_s": self.ttl_s})

    def release(self) -> Entry:
        """Give the lease back so the next rollout takes it at once."""
        return self.record("lease", evidence={"action": "release"})

    def current(self) -> None:
        """Raise Fenced unless this runner still holds the lease (reads the remote's tip)."""
        admit(self.ledger.read(), self.stack, self.holder, self.epoch)

    def lease_env(self) -> dict[str, str]:
        """Return the environment the engine's program needs to fence itself: the epoch and the lease to check."""
        return {"LOCKSTEP_EPOCH": str(self.epoch), LEASE_ENV: json.dumps(
            {"remote": self.ledger.remote, "branch": self.ledger.branch, "stack": self.stack,
             "holder": self.holder, "epoch": self.epoch, "recheck_s": RECHECK_S}, sort_keys=True)}

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")


@dataclass
class LeaseCheck:
    """The check the program's resource hook runs before every create, update and delete: is the lease current?

    It reads the remote's ledger tip (one `git ls-remote`) at most every `recheck_s` seconds and re-reads the chain
    only when the tip moved: a takeover is seen by the first resource operation after that interval.
    """

    remote: str
    branch: str
    stack: str
    holder: str
    epoch: int
    recheck_s: float = RECHECK_S
    _ledger: GitLedger | None = None
    _checked: float = -1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LeaseCheck | None:
        """Return the check $LOCKSTEP_LEASE describes, or None outside a rollout (previews)."""
        raw = env.get(LEASE_ENV)
        if not raw:
            return None
        try:
            doc = json.loads(raw)
            return cls(str(doc["remote"]), str(doc["branch"]), str(doc["stack"]), str(doc["holder"]),
                       int(doc["epoch"]), float(doc.get("recheck_s", RECHECK_S)))
        except (ValueError, KeyError, TypeError) as exc:
            raise LockstepError(f"${LEASE_ENV} is not the lease a rollout passes ({exc}); unset it") from exc

    def require(self, what: str) -> None:
        """Raise Fenced (naming the resource operation) unless the lease is still this runner's."""
        if self._ledger is None:
            self._ledger = GitLedger(self.remote, self.branch)
        if self._checked >= 0 and time.monotonic() - self._checked < self.recheck_s:
            return
        try:
            admit(self._ledger.read(), self.stack, self.holder, self.epoch)
        except Fenced as exc:
            raise Fenced(f"{what} refused: {exc}") from None
        self._checked = time.monotonic()
