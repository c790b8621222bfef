"""The rollout as re-entrant steps: `step(release, state) -> state`, where state is always re-read from the ledger.

Each step does one thing and records it: the intent before an apply, the apply's result after it, the verification
after that. A crash between any two leaves a ledger from which the next run (`--resume`) picks up: the next wave is
the first not verified at the release, and a wave with an intent but no result is indeterminate, so it is verified
against live state before anything is applied again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.engine.base import Engine, EngineError
from infra.ledger.fence import Fenced
from infra.ledger.writer import Writer
from infra.rollout import breakglass
from infra.rollout.live import LiveReader
from infra.rollout.plan import Release, Wave, plan_digest
from infra.rollout.state import State, fold
from infra.rollout.verify import Check, overall, verify_wave

OK, USAGE, REFUSED, HELD, ROLLED_BACK, NEEDS_HUMAN, FENCED = 0, 1, 3, 4, 5, 6, 7


class Halt(Exception):
    """The rollout stops here with an exit code and a sentence for the summary."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Rollout:
    """Everything one rollout run uses; `checkpoint(name)` is called at every step boundary (fault injection)."""

    release: Release
    engine_for: Callable[[Path], Engine]
    writer: Writer
    reader: LiveReader
    checkpoint: Callable[[str], None] = lambda _name: None
    say: Callable[[str], None] = print
    soak_s: int = 0
    sleep: Callable[[float], None] = time.sleep
    rollback_to: Callable[[str], Release] | None = None  # commit -> its release (export of that tree)
    _plan: Any = field(default=None, repr=False)

    @property
    def stack(self) -> str:
        """Return the stack's name."""
        return self.release.stack.name

    def state(self) -> State:
        """Re-read the ledger and fold this release's state."""
        return fold(self.writer.ledger.read(fresh=False), self.stack, self.release.commit, len(self.release.waves))

    def run(self) -> State:
        """Step until the release is verified (return) or halts (raise Halt)."""
        state = self.state()
        while not state.released:
            state = self.step(self.release, state)
        return state

    def step(self, release: Release, state: State) -> State:
        """Do the next thing the state calls for, record it, and return the state the ledger now holds."""
        if state.bad:
            raise Halt(REFUSED, f"{release.commit[:12]} is recorded as a bad release on {self.stack}: fix forward "
                       "with a new commit, or re-run with --override-bad REASON")
        if state.failed or state.rollback is not None:
            self.roll_back(state)
            return self.state()
        index = state.next_wave()
        if index is None:
            self.finish()
            return self.state()
        wave, progress = release.waves[index], state.waves[index]
        if not progress.intent:  # intent, then apply, in one step: a crash between them leaves it indeterminate
            self.intent(wave, "release")
            self.apply(wave, "release", release)
        elif progress.applied is None and progress.resumed is None:
            self.resolve_indeterminate(wave)
        elif progress.applied is None:
            self.apply(wave, "release", release)
        else:
            self.verify(wave, "release", release)
        return self.state()

    def glass(self) -> dict[tuple[str, str], str]:
        """Return the (workflow, target) pairs under an open break-glass, with its reason; halt on an expired one."""
        now = self.writer.clock()
        found = breakglass.open_glass(self.writer.ledger.read(fresh=False), self.stack)
        lapsed = breakglass.expired(found, now)
        if lapsed:
            g = lapsed[0]
            raise Halt(REFUSED, f"break-glass on {g.workflow}/{g.target} expired at {g.expires}: record adopt or "
                       f"revert (lockstep breakglass close --stack {self.stack} --workflow {g.workflow} "
                       f"--target {g.target} --resolution adopt|revert) before the next rollout")
        return {k: g.reason for k, g in found.items()}

    def plan(self, release: Release) -> Any:
        """Preview the stack with the lease's epoch and save the plan `up` applies (once per release)."""
        if self._plan is None or self._plan[0] is not release:
            with lease_env(self.writer):
                verdict = self.engine_for(release.root).preview(self.stack)
            if verdict.blocked:
                raise Halt(REFUSED, f"the preview of {self.stack} at {release.commit[:12]} failed: "
                           f"{verdict.error or 'blocking policy findings'}")
            self._plan = (release, verdict.plan)
        return self._plan[1]

    def intent(self, wave: Wave, purpose: str, release: Release | None = None, **extra: Any) -> None:
        """Record what is about to be applied to the wave, before anything is."""
        release = release or self.release
        plan = self.plan(release)
        skip = sorted(f"{w}/{t}" for (w, t) in self.glass() if t in wave.targets)
        self.writer.record("intent", commit=release.commit, digests=release.wave_digests(wave), evidence={
            "purpose": purpose, "wave": wave.index, "targets": list(wave.targets), "plan_digest": plan_digest(plan),
            "urns": len(wave.urns), "break_glass": skip, **extra})
        self.say(f"wave {wave.index + 1} [{', '.join(wave.targets)}]: intent recorded ({purpose})")
        self.checkpoint(f"intent:{purpose}:{wave.index}")

    def apply(self, wave: Wave, purpose: str, release: Release, urns: tuple[str, ...] | None = None,
              **extra: Any) -> bool:
        """Apply the wave through the engine (its URNs, the saved plan), then record the result."""
        glass = self.glass()
        chosen = [u for u in (urns or wave.urns) if wave.owned.get(u) not in glass]
        error = ""
        try:
            with lease_env(self.writer):
                verdict = self.engine_for(release.root).up(self.stack, urns=chosen, plan=self.plan(release))
            error = verdict.error
            changes = dict(verdict.changes)
        except EngineError as exc:
            error, changes = str(exc), {}
        self.checkpoint(f"applied-before-record:{purpose}:{wave.index}")
        if "lease" in error and "refused" in error:
            raise Fenced(error)
        self.writer.record("applied", commit=release.commit, digests=release.wave_digests(wave), evidence={
            "purpose": purpose, "wave": wave.index, "targets": list(wave.targets), "result": "failed" if error else
            "ok", "error": error[-500:], "changes": changes, **extra})
        self.say(f"wave {wave.index + 1} [{', '.join(wave.targets)}]: apply {'FAILED: ' + error if error else 'ok'}")
        self.checkpoint(f"applied:{purpose}:{wave.index}")
        return not error

    def verify(self, wave: Wave, purpose: str, release: Release, **extra: Any) -> str:
        """Verify the wave live, record the three-valued result, and return it."""
        checks = verify_wave(self.reader, release, wave, skip=self.glass())
        result = overall(checks)
        self.writer.record("verified", commit=release.commit, digests=release.wave_digests(wave), evidence={
            "purpose": purpose, "wave": wave.index, "targets": list(wave.targets), "result": result,
            "checks": [c.as_dict() for c in checks], **extra})
        for target in wave.targets:
            mine = [c for c in checks if c.target == target]
            self.say(f"  {target}: {overall(mine)}" + "".join(f"\n    {c.workflow}: {d}" for c in mine
                                                              if c.result != "pass" for d in c.detail))
        self.checkpoint(f"verified:{purpose}:{wave.index}")
        return result

    def resolve_indeterminate(self, wave: Wave) -> None:
        """A wave with an intent and no result: verify live first; record pass, or decide to apply again."""
        checks = verify_wave(self.reader, self.release, wave, skip=self.glass())
        result = overall(checks)
        decision = "verified-live" if result == "pass" else "re-apply"
        self.writer.record("resume", commit=self.release.commit, evidence={
            "purpose": "release", "wave": wave.index, "decision": decision, "found": result})
        self.say(f"wave {wave.index + 1}: indeterminate after a crash; live state {result}, {decision}")
        self.checkpoint(f"resume:{wave.index}")
        if result == "pass":
            self.verify(wave, "release", self.release)

    def finish(self) -> None:
        """Soak (re-verifying every wave), then record the release as verified and hand the lease back."""
        if self.soak_s:
            self.say(f"soaking {self.soak_s} s, then verifying every wave again")
            self.writer.heartbeat()
            self.sleep(self.soak_s)
            checks = [c for w in self.release.waves for c in verify_wave(self.reader, self.release, w,
                                                                       skip=self.glass())]
            if overall(checks) != "pass":
                self.writer.record("verified", commit=self.release.commit, evidence={
                    "purpose": "release", "wave": self.release.waves[-1].index, "scope": "soak",
                    "result": overall(checks), "checks": [c.as_dict() for c in checks]})
                return
        targets = [t for w in self.release.waves for t in w.targets]
        self.writer.record("verified", commit=self.release.commit, digests=self.release.digests, evidence={
            "scope": "release", "result": "pass", "targets": targets, "soak_s": self.soak_s})
        self.checkpoint("verified:release")

    def roll_back(self, state: State) -> None:
        """Roll every wave this attempt touched forward to the last verified release, verify it, look for ghosts."""
        from infra.rollout.rollback import roll_back

        roll_back(self, state)


@contextlib.contextmanager
def lease_env(writer: Writer) -> Iterator[None]:
    """Expose the lease to the engine's program for one engine call ($LOCKSTEP_EPOCH, $LOCKSTEP_LEASE)."""
    env = writer.lease_env() if writer.epoch else {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def summary(checks: Mapping[str, list[Check]]) -> str:
    """Return one line per target: its result."""
    return "\n".join(f"{t}: {overall(c)}" for t, c in checks.items())


def utcnow() -> dt.datetime:
    """Return the wall clock (UTC)."""
    return dt.datetime.now(dt.UTC)
