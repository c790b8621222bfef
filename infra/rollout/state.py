"""A rollout's state, folded from the ledger alone (never from wall clocks): what the next step is follows from it.

An attempt at releasing commit C to stack S is every entry for (S, C) after the last one that ended an attempt (a
`bad-release` of C, or the release-wide `verified` of C). Entries made while rolling back carry `purpose: rollback`
and count for the rollback, not for the release's waves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from infra.ledger.entry import Entry


@dataclass(frozen=True)
class WaveProgress:
    """One wave of the current attempt."""

    intent: bool = False
    applied: str | None = None    # ok | failed
    verified: str | None = None   # pass | fail | inconclusive
    resumed: str | None = None    # the decision recorded for an indeterminate wave (re-apply)


@dataclass(frozen=True)
class State:
    """Where the release of one commit to one stack stands."""

    stack: str
    commit: str
    waves: tuple[WaveProgress, ...]
    gate: str | None = None           # pass | blocked (the latest gate of this commit)
    released: bool = False            # the release-wide verified entry of this attempt... or an earlier one
    bad: bool = False                 # recorded as a bad release, and not overridden since
    rollback: str | None = None       # start | done
    rollback_ok: bool = False         # the recorded rollback completed, verified, without ghosts
    last_good: str | None = None      # the latest verified release of the stack other than this commit
    overrides: tuple[str, ...] = field(default_factory=tuple)  # break-glass scopes recorded for this commit

    @property
    def failed(self) -> bool:
        """Tell whether a wave of this attempt failed to apply or to verify."""
        return any(w.applied == "failed" or w.verified in ("fail", "inconclusive") for w in self.waves)

    def next_wave(self) -> int | None:
        """Return the first wave not verified at this release, or None when all are."""
        return next((i for i, w in enumerate(self.waves) if w.verified != "pass"), None)


def _purpose(e: Entry) -> str:
    return str(e.evidence.get("purpose", "release"))


def fold(chain: Sequence[Entry], stack: str, commit: str, wave_count: int) -> State:
    """Return the state of releasing `commit` to `stack` as the chain says."""
    mine = [e for e in chain if e.stack == stack]
    start = 0
    for i, e in enumerate(mine):
        ends = e.commit == commit and (e.kind == "bad-release" or (e.kind == "verified" and
                                                                     e.evidence.get("scope") == "release"))
        override = e.kind == "break-glass" and e.commit == commit and e.evidence.get("scope") == "re-release"
        if (ends and e.kind != "bad-release") or override:
            start = i + 1
    waves = [WaveProgress() for _ in range(wave_count)]
    rollback: str | None = None
    rollback_ok = False
    for e in mine[start:]:
        if e.kind == "rollback" and e.evidence.get("failed_commit") == commit:
            rollback = str(e.evidence.get("phase"))
            rollback_ok = e.evidence.get("result") == "ok"
        if e.commit != commit or _purpose(e) != "release" or "wave" not in e.evidence:
            continue
        i = int(e.evidence["wave"])
        if not 0 <= i < wave_count:
            continue
        w = waves[i]
        if e.kind == "intent":
            waves[i] = WaveProgress(intent=True)
        elif e.kind == "applied":
            waves[i] = WaveProgress(True, str(e.evidence.get("result")), None, None)
        elif e.kind == "verified":
            waves[i] = WaveProgress(w.intent, w.applied, str(e.evidence.get("result")), w.resumed)
        elif e.kind == "resume":
            waves[i] = WaveProgress(w.intent, w.applied, w.verified, str(e.evidence.get("decision")))
    return State(stack, commit, tuple(waves), gate=_gate(chain, stack, commit),
                 released=released(chain, stack, commit), bad=_bad(mine, commit, start), rollback=rollback,
                 rollback_ok=rollback_ok,
                 last_good=last_good(chain, stack, exclude=commit),
                 overrides=tuple(str(e.evidence.get("scope")) for e in mine
                                 if e.kind == "break-glass" and e.commit == commit))


def _gate(chain: Sequence[Entry], stack: str, commit: str) -> str | None:
    found = [e for e in chain if e.kind == "gate" and e.commit == commit and e.stack == stack]
    return str(found[-1].evidence.get("result")) if found else None


def _bad(mine: Sequence[Entry], commit: str, start: int) -> bool:
    """Tell whether the commit's latest attempt ended as a bad release (no override recorded after it)."""
    for e in reversed(mine):
        if e.commit != commit:
            continue
        if e.kind == "bad-release":
            return True
        if e.kind == "break-glass" and e.evidence.get("scope") == "re-release":
            return False
    return False


def released(chain: Sequence[Entry], stack: str, commit: str) -> bool:
    """Tell whether the chain records `commit` as verified on `stack` (release-wide), and not later found bad."""
    state = False
    for e in chain:
        if e.stack != stack or e.commit != commit:
            continue
        if e.kind == "verified" and e.evidence.get("scope") == "release" and e.evidence.get("result") == "pass":
            state = True
        elif e.kind == "bad-release":
            state = False
    return state


def last_good(chain: Sequence[Entry], stack: str, exclude: str = "") -> str | None:
    """Return the most recent commit verified release-wide on the stack (other than `exclude`), or None."""
    for e in reversed(chain):
        if e.stack == stack and e.kind == "verified" and e.evidence.get("scope") == "release" \
                and e.evidence.get("result") == "pass" and e.commit != exclude and released(chain, stack, e.commit):
            return e.commit
    return None


def deployed(chain: Sequence[Entry], stack: str) -> dict[str, str]:
    """Return target -> the commit the chain last recorded as verified on it (release or rollback)."""
    out: dict[str, str] = {}
    for e in chain:
        if e.stack == stack and e.kind == "verified" and e.evidence.get("result") == "pass" and "targets" in e.evidence:
            for target in e.evidence["targets"]:
                out[str(target)] = e.commit
    return out
