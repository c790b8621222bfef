"""The stack lease and its fencing epoch, read from the ledger chain.

A lease entry with epoch = last + 1 takes a stack's lease; every later entry by the holder at that epoch is its
heartbeat, and the lease expires `ttl_s` after the last one (by the reader's clock: skew moves *when* a takeover may
happen, never whether a zombie is fenced). Taking over bumps the epoch; from then on `admit` refuses every append
by the old holder, the program's resource hook refuses its resource operations, and the on-prem hosts refuse its
writes (their manifests keep the highest epoch they accepted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from infra.errors import LockstepError
from infra.ledger.entry import Entry

DEFAULT_TTL_S = 900


class LeaseHeld(LockstepError):
    """Another runner holds the stack's lease and it has not expired."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(f"stack {lease.stack!r} is being rolled out by {lease.holder} (lease epoch {lease.epoch}, "
                         f"taken at ledger entry {lease.since_seq}, {lease.since_at}; expires {lease.expires_at} "
                         "unless renewed): wait for it, or re-run after it expires")
        self.lease = lease


class Fenced(LockstepError):
    """This runner's lease was taken over (or released): it must not append, apply or write to a host."""


@dataclass(frozen=True)
class Lease:
    """The state of one stack's lease as the chain says."""

    stack: str
    holder: str
    epoch: int
    since_seq: int
    since_at: str
    ttl_s: int
    last_seen: str  # `at` of the holder's last entry at this epoch (its heartbeat)
    released: bool

    @property
    def expires_at(self) -> str:
        """Return when the lease expires without another heartbeat (ISO, the holder's clock)."""
        last = dt.datetime.fromisoformat(self.last_seen) if self.last_seen else dt.datetime.min.replace(tzinfo=dt.UTC)
        return (last + dt.timedelta(seconds=self.ttl_s)).isoformat(timespec="seconds")

    def expired(self, now: dt.datetime) -> bool:
        """Tell whether the lease has lapsed at `now` (by this reader's clock)."""
        return self.released or now >= dt.datetime.fromisoformat(self.expires_at)


def lease_of(chain: Sequence[Entry], stack: str) -> Lease | None:
    """Return the stack's current lease as the chain says, or None when none was ever taken."""
    lease: Lease | None = None
    for e in chain:
        if e.stack != stack:
            continue
        if e.kind == "lease":
            action = str(e.evidence.get("action", ""))
            if action in ("acquire", "takeover"):
                lease = Lease(stack, e.holder, e.epoch, e.seq, e.at, int(e.evidence.get("ttl_s", DEFAULT_TTL_S)),
                              e.at, False)
                continue
            if lease is not None and e.epoch == lease.epoch and e.holder == lease.holder and action == "release":
                lease = Lease(**{**lease.__dict__, "released": True, "last_seen": e.at})
                continue
        if lease is not None and e.epoch == lease.epoch and e.holder == lease.holder and not lease.released:
            lease = Lease(**{**lease.__dict__, "last_seen": e.at})
    return lease


def last_epoch(chain: Sequence[Entry], stack: str) -> int:
    """Return the highest epoch any lease of the stack ever had (0 before the first)."""
    return max((e.epoch for e in chain if e.stack == stack and e.kind == "lease"), default=0)


def acquisition(chain: Sequence[Entry], stack: str, holder: str, now: dt.datetime,
                reclaim: bool = False) -> tuple[int, str, str]:
    """Return (epoch, action, previous holder) for taking the lease now, or raise LeaseHeld.

    A free or released lease is acquired; an expired one, or one this same holder held before a crash (`reclaim`,
    a resumed run), is taken over. Either way the epoch is last + 1, so whatever ran before is fenced.
    """
    lease = lease_of(chain, stack)
    epoch = last_epoch(chain, stack) + 1
    if lease is None or lease.released:
        return epoch, "acquire", ""
    if lease.expired(now) or (reclaim and lease.holder == holder):
        return epoch, "takeover", lease.holder
    raise LeaseHeld(lease)


def admit(chain: Sequence[Entry], stack: str, holder: str, epoch: int) -> None:
    """Refuse (Fenced) unless `holder` holds the stack's lease at exactly `epoch` on this chain."""
    lease = lease_of(chain, stack)
    if lease is None or lease.released or lease.holder != holder or lease.epoch != epoch:
        now_held = "nobody" if lease is None or lease.released else f"{lease.holder} at epoch {lease.epoch}"
        raise Fenced(f"the lease of stack {stack!r} is held by {now_held}, not by {holder} at epoch {epoch}: this "
                     "runner was taken over, so its ledger appends, applies and host writes are refused")
