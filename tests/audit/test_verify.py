"""`lockstep audit verify` on the recorded history: clean as recorded, and every tampering of the ledger detected with
a finding that names the entry and the control."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.audit.findings import Finding
from infra.audit.verify import Verdict
from infra.ledger.store import GitLedger, Signing
from infra.ledger.writer import Writer
from tests.audit.history import History
from tests.audit.tamper import (
    audit,
    auditor_clone,
    backdate,
    edit_in_place,
    entries,
    rebuild,
    relinked,
)

REPO = Path(__file__).resolve().parents[2]


def only(v: Verdict, check: str) -> list[Finding]:
    """Return the findings of one check."""
    return [f for f in v.findings if f.check == check]


def test_the_recorded_history_verifies_clean_against_the_trust_root_and_every_published_checkpoint(
        recorded: History, tmp_path: Path) -> None:
    v = audit(recorded, tmp_path, trust=True, checkpoints=tuple(recorded.checkpoints))
    assert v.findings == [], "\n".join(f.render() for f in v.findings)
    released = [r for r in v.history.releases if r.outcome == "released"]
    assert len(released) >= 20 and {r.stack for r in released} == {"staging", "prod"}
    assert len(recorded.checkpoints) == len(recorded.releases)  # every rollout that ended published its tip
    status = {c.commit: c for c in v.population}
    assert set(status) == set(recorded.merges) and recorded.docs_only not in status  # docs are not in scope
    m = recorded.merges
    assert status[m[2]].detail == f"released to staging; superseded on prod by {m[3][:12]}"
    assert status[m[4]].status == "rolled-back"
    [bad] = [r for r in v.history.releases if r.commit == m[4]]
    assert bad.outcome == "rolled-back" and bad.bad is not None and bad.rollback
    [resumed] = [r for r in v.history.releases if r.commit == m[5] and r.stack == "prod"]
    assert resumed.resumes and resumed.resumes[0].evidence["decision"] == "re-apply" and len(resumed.holders) == 1
    assert v.incidents[recorded.incidents["adopted"]].startswith(f"adopted by PR #107 ({m[6][:12]}")
    assert v.incidents[recorded.incidents["reverted"]].startswith(f"reverted by the release of {m[7][:12]}")
    [window] = v.history.windows
    assert window.closed is not None and window.reason.startswith("INC-2231")
    assert "reviewed by" in window.closed.evidence["reason"]


def test_the_cli_verifies_a_clone_end_to_end_and_reports_json(recorded: History, tmp_path: Path) -> None:
    clone = auditor_clone(recorded, tmp_path)
    beside = Path(sys.executable).with_name("lockstep")
    lockstep = str(beside) if beside.is_file() else shutil.which("lockstep") or "lockstep"
    done = subprocess.run([lockstep, "audit", "verify", "--root", str(clone), "--trust",
                           str(recorded.trust), "--checkpoint", recorded.checkpoints[-1], "--format", "json"],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] and doc["findings"] == [] and len(doc["releases"]) >= 21
    assert doc["checked"]["signature"] == f"against {recorded.trust}"
    assert git_refs(clone) == ["refs/heads/main", "refs/lockstep/audit/ledger", "refs/remotes/origin/HEAD",
                               "refs/remotes/origin/main"]


def git_refs(clone: Path) -> list[str]:
    """Return the clone's refs."""
    out = subprocess.run(["git", "-C", str(clone), "for-each-ref", "--format=%(refname)"], capture_output=True,
                         text=True, check=True).stdout
    return sorted(out.split())


@pytest.mark.parametrize("args,expected", [
    (["--since", "not-a-rev"], "--since 'not-a-rev': is neither a commit of this clone nor a date"),
    (["--trust", "/nonexistent/allowed_signers"], "--trust /nonexistent/allowed_signers: no such file"),
    (["--trust", "/"], "--trust /: is a directory; pass the allowed-signers file itself (e.g. /allowed_signers)"),
    (["--checkpoint", "xyz"], "--checkpoint 'xyz': not a ledger tip"),
    (["--main", "trunk"], "--main trunk: no such branch"),
])
def test_a_usage_error_is_one_clear_line_and_exit_2(recorded: History, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str], args: list[str],
                                                    expected: str) -> None:
    from infra import cli

    clone = auditor_clone(recorded, tmp_path)
    assert cli.main(["audit", "verify", "--root", str(clone), *args]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.mark.parametrize("action", ["verify", "report"])
def test_bad_arguments_are_all_refused_before_the_ledger_is_fetched(recorded: History, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     action: str) -> None:
    from infra import cli

    clone = auditor_clone(recorded, tmp_path)
    unreachable = ["--ledger-remote", str(tmp_path / "no-such-remote")]  # a fetch would fail with another message
    assert cli.main(["audit", action, "--root", str(clone), "--since", "not-a-rev", *unreachable]) == 2
    err = capsys.readouterr().err
    assert "--since 'not-a-rev': is neither a commit of this clone nor a date" in err and "fetch" not in err, err
    trust = ["--trust", str(tmp_path), "--checkpoint", "xyz"] if action == "verify" else []
    assert cli.main(["audit", action, "--root", str(clone), "--since", "2026-13-45", "--main", "trunk", *trust]) == 2
    err = capsys.readouterr().err
    said = ["--main trunk: no such branch"] + ([f"--trust {tmp_path}: is a directory", "--checkpoint 'xyz'"]
                                               if action == "verify" else [])
    assert all(s in err for s in said) and "Traceback" not in err, err
    assert "refs/lockstep/audit/ledger" not in git_refs(clone), "nothing was fetched for a request that is refused"


TRUST_PROBLEMS = {
    "empty": ("", ["holds no key (no line at all but comments and blank lines)"]),
    "comments-only": ("# the pipeline's key\n\n   # rotated 2026-11\n", ["holds no key (no line at all"]),
    "garbage": ("ledger@lockstep.invalid\nnot a key line at all\n",
                [":1: has 1 field(s)", ":2: names no key type", "holds no key (only lines that are not keys)"]),
    "bad-base64": ("ledger@lockstep.invalid ssh-ed25519 AAAA!!notbase64\n", [":1: its ssh-ed25519 key is not base64"]),
    "pasted-private-key": ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n"
                           "-----END OPENSSH PRIVATE KEY-----\n",
                           [":1: is a PEM armour line", ":2: has 1 field(s)", ":3: is a PEM armour line"]),
}


@pytest.mark.parametrize("name", sorted(TRUST_PROBLEMS))
def test_a_trust_file_without_a_valid_key_is_refused_naming_the_file_and_lines(
        recorded: History, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    from infra import cli

    text, said = TRUST_PROBLEMS[name]
    trust = tmp_path / "allowed_signers"
    trust.write_text(text)
    clone = auditor_clone(recorded, tmp_path)
    assert cli.main(["audit", "verify", "--root", str(clone), "--trust", str(trust), "--format", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    message = doc["errors"][0]["message"]
    assert doc["ok"] is False and doc["exit"] == 2 and all(f"--trust {trust}{s}" in message or s in message
                                                          for s in said), message
    assert "b3BlbnNzaC1rZXktdjEA" not in message, "a line of the trust file is never echoed"


def test_a_typo_beside_a_good_key_is_refused_and_options_and_comments_are_accepted(
        recorded: History, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra import cli

    principal, key_type, key = recorded.trust.read_text().split()[:3]
    good = f'# the pipeline\n{principal} namespaces="git,file" {key_type} {key} pipeline@ci\n'
    trust = tmp_path / "allowed_signers"
    trust.write_text(good + f"{principal} {key_type} {key[:-8]}\n")   # a key cut short when pasted
    clone = auditor_clone(recorded, tmp_path)
    assert cli.main(["audit", "verify", "--root", str(clone), "--trust", str(trust)]) == 2
    err = capsys.readouterr().err
    assert f"--trust {trust}:3: its " in err and ":2:" not in err, err
    trust.write_text(good)
    assert cli.main(["audit", "verify", "--root", str(clone), "--trust", str(trust)]) == 0, capsys.readouterr()


def test_since_limits_the_population_but_the_chain_is_checked_whole(recorded: History, tmp_path: Path) -> None:
    v = audit(recorded, tmp_path, since=recorded.merges[8])
    assert v.findings == [] and [c.commit for c in v.population] == recorded.merges[9:]
    assert v.entries == len(entries(recorded))


def test_an_entry_edited_in_place_is_found(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    bad = next(e for e in entries(h) if e.kind == "bad-release")
    edit_in_place(h, bad.seq, lambda text: text.replace('"bad-release"', '"verified"'))
    [f] = only(audit(h, tmp_path), "chain")
    assert f.seq == bad.seq and "rewrites" in f.message and f"{bad.seq:08d}.json" in f.message
    assert f.render().startswith(f"entry {bad.seq}: CC8.1 / A.8.32 integrity of the change record")


def test_an_entry_rewritten_in_history_is_found_at_the_next_link(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    chain = entries(h)
    bad = next(e for e in chain if e.kind == "bad-release")
    i = chain.index(bad)
    forged = bad.canonical().replace(b'"reason":"a wave failed or was inconclusive"', b'"reason":"planned"')
    assert forged != bad.canonical()
    rebuild(h, i, [forged, *(e.canonical() for e in chain[i + 1:])])
    [f] = only(audit(h, tmp_path), "chain")
    assert (f.seq, f.stack, f.kind) == (bad.seq + 1, chain[i + 1].stack, chain[i + 1].kind)
    assert "is not the hash of the entry before it" in f.message and "rewritten" in f.message


def test_a_dropped_entry_is_found(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    chain = entries(h)
    i = next(i for i, e in enumerate(chain) if e.kind == "bad-release")  # hide the failed release
    rebuild(h, i, [e.canonical() for e in chain[i + 1:]])
    found = only(audit(h, tmp_path), "chain")
    assert any(f.seq == i + 2 and f"entries {i + 1}..{i + 1} are missing (dropped)" in f.message for f in found)
    assert all(f.seq == i + 2 for f in found), [f.render() for f in found]  # one break, not a cascade


def test_reordered_entries_are_found(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    chain = entries(h)
    i = next(i for i, e in enumerate(chain) if e.kind == "gate" and e.stack == "prod")
    rebuild(h, i, [chain[i + 1].canonical(), chain[i].canonical(), *(e.canonical() for e in chain[i + 2:])])
    found = only(audit(h, tmp_path), "chain")
    assert {f.seq for f in found} >= {chain[i + 1].seq, chain[i].seq}
    assert any("reordered" in f.message for f in found)


def test_a_backdated_entry_is_found_even_when_the_chain_is_relinked(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    chain = entries(h)
    i = next(i for i, e in enumerate(chain) if e.kind == "bad-release")
    rebuild(h, i, relinked([*chain[:i], backdate(chain[i], days=3), *chain[i + 1:]], i))
    v = audit(h, tmp_path, trust=True)
    [late] = only(v, "backdated")
    assert (late.seq, late.stack, late.kind) == (chain[i].seq, "staging", "bad-release")
    assert "backdated" in late.message and late.controls == ("CC8.1", "CC7.2")
    assert only(v, "chain") == []  # relinked: only the time, and the missing signatures, give it away
    assert {f.seq for f in only(v, "signature")} == {e.seq for e in chain[i:]}


def test_a_self_consistent_forgery_signed_with_the_real_key_is_caught_only_by_a_checkpoint(
        recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    chain = entries(h)
    start = recorded.glass["opened_seq"] - 1  # erase the break-glass window, re-sign everything after it
    kept = [e for e in chain[start:] if e.kind != "break-glass"]
    rebuild(h, start, relinked([*chain[:start], *kept], start), key=h.key)
    assert len(entries(h)) == len(chain) - 2  # the store's own reader accepts the forgery
    assert audit(h, tmp_path / "a", trust=True).findings == []
    v = audit(h, tmp_path / "b", trust=True, checkpoints=(recorded.checkpoints[-1],))
    [f] = v.findings
    assert f.check == "checkpoint" and recorded.checkpoints[-1][:16] in f.message
    assert "replaced or rolled back" in f.message and f.controls == ("CC8.1", "A.8.32")
    early = next(c for c in recorded.checkpoints if c in {e.digest() for e in chain[:start]})
    assert audit(h, tmp_path / "c", checkpoints=(early,)).findings == []  # what was published before still holds


def test_an_entry_signed_by_a_key_outside_the_trust_root_is_found(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    forger = Writer(GitLedger(str(h.origin), signing=Signing(h.intruder, None)), "prod", "someone")
    entry = forger.record_unleased("break-glass", evidence={"scope": "re-release", "reason": "trust me"})
    [f] = only(audit(h, tmp_path, trust=True), "signature")
    assert (f.seq, f.stack, f.kind) == (entry.seq, "prod", "break-glass")
    assert "not in the trust root" in f.message and f.render().startswith(f"entry {entry.seq} (prod, break-glass)")


def test_a_trust_root_read_from_the_repository_is_never_used(recorded: History, tmp_path: Path) -> None:
    h = recorded.copy(tmp_path)
    forger = Writer(GitLedger(str(h.origin), signing=Signing(h.intruder, None)), "prod", "someone")
    forger.record_unleased("gate", evidence={"result": "pass"})
    clone = auditor_clone(h, tmp_path)
    (clone / ".git" / "allowed").write_text(f"ledger@lockstep.invalid {Path(f'{h.intruder}.pub').read_text()}")
    subprocess.run(["git", "-C", str(clone), "config", "gpg.ssh.allowedSignersFile", str(clone / ".git" / "allowed")],
                   check=True)
    from infra.audit.verify import Request, verify

    assert [f.check for f in verify(Request(clone, h.trust)).findings] == ["signature"]


def test_a_rollout_publishes_its_ledger_tip_to_the_log_and_the_ci_outputs(recorded: History, tmp_path: Path) -> None:
    from infra.rollout.run import publish_tip

    last = entries(recorded)[-1]
    said: list[str] = []
    outputs = tmp_path / "github_output"
    publish_tip(last, said.append, env={"GITHUB_OUTPUT": str(outputs)})
    assert said == [f"ledger tip: entry {last.seq} {last.digest()}"]
    assert outputs.read_text() == f"ledger_tip={last.digest()}\nledger_seq={last.seq}\n"
    assert recorded.checkpoints[-1] == last.digest()  # what the last rollout printed is the tip the audit checks
