"""The fold and the release checks on small hand-written chains: what the recorded history does not contain."""

from __future__ import annotations

from typing import Any

from infra.audit import controls
from infra.audit.history import fold
from infra.ledger.entry import Entry

C, D = "c" * 40, "d" * 40


def chain(*specs: tuple[str, str, str, dict[str, Any]]) -> list[Entry]:
    """Return entries (stack, kind, commit, evidence) numbered in order (links are not checked by the fold)."""
    return [Entry(i, "", stack, 1, kind, "ci", commit, {}, evidence, f"2026-11-02T09:{i:02d}:00+00:00")
            for i, (stack, kind, commit, evidence) in enumerate(specs, start=1)]


def failed_release(result: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """A staging release of C whose wave failed, then a rollback that ended with `result`."""
    return [("staging", "gate", C, {"result": "pass", "stacks": {"staging": {"blocked": False}}}),
            ("staging", "intent", C, {"purpose": "release", "wave": 0, "targets": ["aws"]}),
            ("staging", "applied", C, {"purpose": "release", "wave": 0, "targets": ["aws"], "result": "failed"}),
            ("staging", "rollback", C, {"phase": "start", "failed_commit": C, "to_commit": D}),
            ("staging", "rollback", C, {"phase": "done", "failed_commit": C, "to_commit": D, "result": result,
                                        "problems": ["ghost: billing/aws still carries the failed digest"]}),
            ("staging", "bad-release", C, {"reason": "a wave failed"})]


def test_an_incomplete_rollback_with_no_later_release_is_a_finding_naming_the_ghost() -> None:
    h = fold(chain(*failed_release("incomplete")))
    [release] = h.releases
    assert release.outcome == "rolled-back" and len(release.rollback) == 2
    out = controls.Accounted()
    controls.release_checks(h, release, lambda _c, _s: [("aws",)], "prod", "staging", out)
    [f] = out.findings
    assert (f.seq, f.kind, f.check) == (5, "rollback", "waves") and "ghost: billing/aws" in f.message


def test_a_complete_rollback_is_history_not_a_finding() -> None:
    h = fold(chain(*failed_release("ok")))
    out = controls.Accounted()
    controls.release_checks(h, h.releases[0], lambda _c, _s: [("aws",)], "prod", "staging", out)
    assert out.findings == [] and h.releases[0].bad is not None


def test_a_break_glass_window_that_expired_unreviewed_is_a_finding_whatever_the_offset() -> None:
    opened = ("staging", "break-glass", "", {"action": "open", "workflow": "billing", "target": "gcp",
                                              "reason": "INC-1", "expires": "2026-11-02T11:01:30+02:00"})
    later = ("staging", "lease", "", {"action": "acquire"})  # at 09:02 UTC: after the expiry, 09:01:30 UTC
    h = fold(chain(opened, later))
    out = controls.Accounted()
    controls.window_checks(h.windows[0], h.entries[-1].at, out)
    [f] = out.findings
    assert (f.seq, f.kind, f.check) == (1, "break-glass", "emergency") and "no after-the-fact review" in f.message
    still = controls.Accounted()
    controls.window_checks(h.windows[0], h.entries[0].at, still)
    assert still.findings == [] and "open until" in still.notes[0]
