"""The recorded history continued with four failures of the change process, each of which the audit must find:

- c13, PR #113, approved only by its author, released to staging and prod by the real rollout (which records the
  review facts but does not judge them: the audit does);
- c14, PR #114, merged to main and never rolled out on its own;
- c15, PR #115, released straight to prod by the real rollout with `--after ''` (no prerequisite stack), so c14
  reached prod inside it with no entry of its own, and prod got a release staging never verified;
- c16, PR #116, released to staging by a runner that skipped wave 2's verification (an old or modified runner,
  emulated by appending the entries such a runner writes, signed by the pipeline's key).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.ledger.store import Signing
from infra.rollout import plan as planning
from tests.audit.history import Builder, Clock, History, memoised_validation


@dataclass(frozen=True)
class Flawed:
    """The continued history and the commit of each failure."""

    history: History
    self_approved: str
    unrecorded: str
    without_staging: str
    missing_wave: str


def build_flawed(recorded: History, dest: Path) -> Flawed:
    """Copy the recorded history under `dest` and continue it with the four failures."""
    h = recorded.copy(dest)
    assert h.platform is not None
    b = Builder(dest, Clock(h.clock_at), Signing(h.key, h.trust), h.origin, h.platform, list(h.merges), dict(h.prs))
    with memoised_validation():
        c13 = b.merge("Billing export: quick fix", mode="e13", timeout="5m")
        b.prs[c13]["reviews"] = [(b.prs[c13]["author"], "APPROVED")]
        b.release(c13, "staging", "prod")
        c14 = b.merge("Billing export: mode e14", mode="e14", timeout="5m")
        c15 = b.merge("Billing export: mode e15", mode="e15", timeout="5m")
        b.run(c15, "prod", after="")
        c16 = b.merge("Billing export: mode e16", mode="e16", timeout="5m")
        _skip_a_wave_verification(b, c16)
    return Flawed(History(**{**h.__dict__, "merges": b.merges, "prs": b.prs, "clock_at": b.clock.now}),
                  c13, c14, c15, c16)


def _skip_a_wave_verification(b: Builder, sha: str) -> None:
    """Append what a runner that never verified wave 2 writes: lease, gate, both waves applied, one verified."""
    from tests.audit.history import facts_for

    release = planning.load(b.checkout(sha), "staging", sha)
    w = b.writer("staging", "github:acme/lockstep/runs/9116")
    w.acquire()
    w.record("gate", commit=sha, digests=release.digests, evidence={
        "result": "pass", "stacks": {"staging": {"blocked": False}, "prod": {"blocked": False}},
        "github": facts_for(sha, b.prs[sha])})
    for wave in release.waves:
        digests = release.wave_digests(wave)
        w.record("intent", commit=sha, digests=digests, evidence={"purpose": "release", "wave": wave.index,
                                                                  "targets": list(wave.targets)})
        w.record("applied", commit=sha, digests=digests, evidence={"purpose": "release", "wave": wave.index,
                                                                   "targets": list(wave.targets), "result": "ok"})
        if wave.index == 0:
            w.record("verified", commit=sha, digests=digests, evidence={
                "purpose": "release", "wave": 0, "targets": list(wave.targets), "result": "pass", "checks": []})
    w.record("verified", commit=sha, digests=release.digests, evidence={
        "scope": "release", "result": "pass", "targets": [t for wv in release.waves for t in wv.targets]})
    w.release()
    b.clock.advance(minutes=5)
