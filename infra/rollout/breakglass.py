"""Break-glass: an operator acts outside the pipeline on one workflow on one target, for a stated time.

While open, the rollout neither overwrites nor verifies that pair (it says so), and drift classifies its difference
as break-glass rather than an incident. Once expired without a close, the rollout of that stack stops until someone
records `close --resolution adopt` (the live change is written back to the workflow and kept) or `revert` (the next
rollout puts the declared state back).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from infra.errors import LockstepError
from infra.ledger.entry import Entry

_DURATION = re.compile(r"^(\d+)([mhd])$")


@dataclass(frozen=True)
class Glass:
    """One open break-glass on (workflow, target)."""

    workflow: str
    target: str
    reason: str
    expires: str
    opened_by: str
    seq: int

    def expired(self, now: dt.datetime) -> bool:
        """Tell whether it has run out (by this reader's clock)."""
        return now >= dt.datetime.fromisoformat(self.expires)


def expires_at(value: str, now: dt.datetime) -> str:
    """Return an expiry from '90m', '4h', '2d' or an ISO date-time with an offset (raise LockstepError otherwise)."""
    found = _DURATION.match(value.strip())
    if found:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[found[2]]
        return (now + dt.timedelta(**{unit: int(found[1])})).isoformat(timespec="seconds")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise LockstepError(f"--expires: {value!r} — is neither a duration nor a date-time with an offset — write "
                            "'4h', '90m', '2d' or '2026-01-01T12:00:00+00:00'")
    return when.isoformat(timespec="seconds")


def open_glass(chain: Sequence[Entry], stack: str) -> dict[tuple[str, str], Glass]:
    """Return every break-glass still open on the stack, by (workflow, target)."""
    out: dict[tuple[str, str], Glass] = {}
    for e in chain:
        if e.stack != stack or e.kind not in ("break-glass", "adopt") or "workflow" not in e.evidence:
            continue
        key = (str(e.evidence["workflow"]), str(e.evidence["target"]))
        if e.kind == "break-glass" and e.evidence.get("action") == "open":
            out[key] = Glass(*key, str(e.evidence.get("reason", "")), str(e.evidence["expires"]), e.holder, e.seq)
        elif e.evidence.get("action") == "close" or e.kind == "adopt":
            out.pop(key, None)
    return out


def expired(glass: dict[tuple[str, str], Glass], now: dt.datetime) -> list[Glass]:
    """Return the open break-glasses that have expired."""
    return [g for g in glass.values() if g.expired(now)]
