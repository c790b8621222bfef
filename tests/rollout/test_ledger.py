"""The ledger on real git: chain and canonical form, compare-and-swap under contention, the lease fence, clock skew,
retries without duplicates, and SSH signatures verified against an allowed-signers file."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
from pathlib import Path

import pytest

from infra.ledger.entry import EntryError
from infra.ledger.fence import Fenced, LeaseHeld
from infra.ledger.store import GitLedger, LedgerError, Signing
from infra.ledger.writer import LeaseCheck, Writer
from infra.rollout.state import fold
from tests.rollout.support import bare_remote

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def writer(remote: Path, holder: str, at: dt.datetime = NOW, stack: str = "staging", ttl_s: int = 600) -> Writer:
    """Return a writer on its own cache whose clock says `at`."""
    return Writer(GitLedger(str(remote)), stack, holder, ttl_s, clock=lambda: at)


def test_entries_form_a_hash_chain_of_in_toto_statements_one_commit_each(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    w = writer(remote, "ci-1")
    w.acquire()
    w.record("gate", commit="a" * 40, digests={"wf": "d" * 32}, evidence={"result": "pass"})
    chain = GitLedger(str(remote)).read()
    assert [e.kind for e in chain] == ["lease", "gate"] and [e.seq for e in chain] == [1, 2]
    assert chain[1].prev == chain[0].digest()
    doc = json.loads(chain[1].canonical())
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert {"name": f"git:{'a' * 40}", "digest": {"gitCommit": "a" * 40}} in doc["subject"]
    log = subprocess.run(["git", "-C", str(remote), "log", "--format=%s", "lockstep/ledger"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert log == ["gate staging #2 (epoch 1)", "lease staging #1 (epoch 1)"]
    fsck = subprocess.run(["git", "-C", str(remote), "fsck", "--strict"], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr


def test_a_rewritten_entry_is_detected_by_any_reader(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    w = writer(remote, "ci-1")
    w.acquire()
    w.record("gate", commit="a" * 40, evidence={"result": "blocked"})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "lockstep/ledger", str(remote), str(clone)], check=True)
    path = clone / "00000002.json"
    path.write_text(path.read_text().replace('"blocked"', '"pass"'))
    subprocess.run(["git", "-C", str(clone), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "fix"],
                   check=True)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "HEAD:lockstep/ledger"], check=True)
    with pytest.raises(LedgerError, match=r"rewritten|not in canonical form"):
        GitLedger(str(remote)).read()


def test_an_entry_never_carries_a_secret(tmp_path: Path) -> None:
    w = writer(bare_remote(tmp_path), "ci-1")
    w.acquire()
    with pytest.raises(EntryError, match="secret-shaped"):
        w.record("gate", evidence={"note": "https://bot:hunter2@hooks.example.com/x"})


def test_concurrent_lease_takers_exactly_one_wins_and_the_others_name_the_holder(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    results: dict[str, object] = {}
    start = threading.Barrier(5)

    def take(holder: str) -> None:
        w = writer(remote, holder)
        start.wait(timeout=60)
        try:
            results[holder] = w.acquire().epoch
        except LeaseHeld as exc:
            results[holder] = exc

    threads = [threading.Thread(target=take, args=(f"ci-{i}",)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [h for h, r in results.items() if r == 1]
    assert len(winners) == 1, results
    for holder, r in results.items():
        if holder not in winners:
            assert isinstance(r, LeaseHeld) and winners[0] in str(r) and "ledger entry 1" in str(r)
    assert [e.kind for e in GitLedger(str(remote)).read()] == ["lease"]


def test_takeover_fences_the_zombie_every_append_and_every_engine_check(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    zombie = writer(remote, "ci-old", ttl_s=60)
    zombie.acquire()
    check = LeaseCheck.from_env(zombie.lease_env())
    assert check is not None
    check.require("create of urn:a")  # current: passes
    later = writer(remote, "ci-new", at=NOW + dt.timedelta(seconds=61), ttl_s=60)
    taken = later.acquire()
    assert taken.epoch == 2 and taken.evidence["action"] == "takeover"
    refused = 0
    for i in range(20):
        try:
            zombie.record("applied", evidence={"wave": i})
        except Fenced:
            refused += 1
    assert refused == 20
    fresh = LeaseCheck.from_env(zombie.lease_env())
    assert fresh is not None
    with pytest.raises(Fenced, match="create of urn:b refused"):
        fresh.require("create of urn:b")
    later.record("applied", evidence={"wave": 0})  # the new holder is unaffected
    assert [e.holder for e in GitLedger(str(remote)).read()] == ["ci-old", "ci-new", "ci-new"]


def test_a_live_lease_is_not_taken_over_and_a_clock_far_ahead_still_cannot_make_two_writers(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    first = writer(remote, "ci-1", ttl_s=600)
    first.acquire()
    with pytest.raises(LeaseHeld, match="ci-1"):
        writer(remote, "ci-2", at=NOW + dt.timedelta(seconds=30)).acquire()
    skewed = writer(remote, "ci-3", at=NOW + dt.timedelta(days=1))  # its clock is a day ahead: takes over early
    skewed.acquire()
    with pytest.raises(Fenced):
        first.record("intent", evidence={"wave": 0})  # but the fence holds regardless of clocks
    behind = writer(remote, "ci-4", at=NOW - dt.timedelta(days=1))
    with pytest.raises(LeaseHeld, match="ci-3"):
        behind.acquire()


def test_state_follows_the_chain_not_the_wall_clock(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    w = writer(remote, "ci-1", at=NOW)
    w.acquire()
    w.record("intent", commit="c" * 40, evidence={"wave": 0})
    w.clock = lambda: NOW - dt.timedelta(hours=5)  # a clock that jumped back: a later entry with an earlier time
    w.record("applied", commit="c" * 40, evidence={"wave": 0, "result": "failed"})
    state = fold(GitLedger(str(remote)).read(), "staging", "c" * 40, 1)
    assert state.waves[0].applied == "failed" and state.failed


def test_a_retried_append_whose_push_had_landed_writes_no_duplicate(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    remote = bare_remote(tmp_path)
    w = writer(remote, "ci-1")
    w.acquire()
    real = GitLedger._push
    lost = {"once": True}

    def push_then_lose_the_answer(self: GitLedger, commit: str) -> bool:
        ok = real(self, commit)
        if lost.pop("once", False):
            return False  # the remote took it; the client never heard
        return ok

    monkeypatch.setattr(GitLedger, "_push", push_then_lose_the_answer)
    entry = w.record("gate", commit="a" * 40, evidence={"result": "pass"})
    chain = GitLedger(str(remote)).read()
    assert [e.kind for e in chain] == ["lease", "gate"] and entry.seq == 2


def test_entries_are_ssh_signed_and_verified_against_the_allowed_signers(tmp_path: Path) -> None:
    for name in ("pipeline", "intruder"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(tmp_path / name)],
                       check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"ledger@lockstep.invalid {(tmp_path / 'pipeline.pub').read_text()}")
    remote = bare_remote(tmp_path)
    signed = Writer(GitLedger(str(remote), signing=Signing(tmp_path / "pipeline", allowed)), "staging", "ci-1")
    signed.acquire()
    assert GitLedger(str(remote), signing=Signing(None, allowed)).verify_signatures() == []
    forged = Writer(GitLedger(str(remote), signing=Signing(tmp_path / "intruder", allowed)), "staging", "ci-1",
                    epoch=1)
    forged.record("gate", evidence={"result": "pass"})
    problems = GitLedger(str(remote), signing=Signing(None, allowed)).verify_signatures()
    assert len(problems) == 1 and problems[0].startswith(GitLedger(str(remote)).tip()[:12])  # type: ignore[index]
