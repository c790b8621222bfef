"""A recorded deployment history for the audit tests, built through the real rollout code.

One repository (branch `main`, one recorded pull request per merge) whose remote also holds the ledger branch, as on
GitHub. Every release runs `infra.rollout.run.rollout` with the rollout tests' engine double (`tests/rollout/double.py`:
the real offline gate, the real lease hook, a JSON record standing in for the clouds) and the ledger's real git
store, SSH-signed by a pipeline key. GitHub facts come from recorded REST payloads through `infra.ledger.github`.
Drift incidents go through `infra.drift.reconcile` into the ledger (`infra.drift.ledger`); the drift *detection*
(reading the platforms) is not run here: its findings are written down as the drift stage reports them.

The story (`build`), 12 merges to main, 21 releases:

| merge | PR (author -> approver) | staging | prod |
|---|---|---|---|
| c1..c2 | #101..#102 | released | released |
| c3 | #103 | released | superseded by c4 |
| c4 | #104 | released | released |
| c5 | #105 | wave 2 fails: rolled back to c4, bad release | never |
| c6 | #106 | released | runner dies after wave 1's intent; resumed, released |
| c7 | #107 adopts drift incident 1 (staging gcp timeout changed by hand) | released | released |
| c8 | #108 | released | released; it reverts drift incident 2 (prod aws) |
| c9 | #109 | released while a break-glass window is open on staging gcp | released |
| c10..c12 | #110..#112 | released (after the window is closed: revert, reviewed) | released |

A docs-only merge (`docs: ...`, not in the audited scope) sits between c4 and c5. Times come from a fake clock that
starts on 2026-11-02 09:00 UTC and moves forward (each entry a few seconds, hours between merges).

`History` is the API the audit tests build on: keep its fields stable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra import checks as checks_module
from infra import program
from infra.drift.compare import Finding
from infra.drift.ledger import LedgerIncidentStore
from infra.drift.reconcile import record, resolve
from infra.ledger import github
from infra.ledger.store import GitLedger, Signing
from infra.ledger.writer import Writer
from infra.preflight import run as preflight_run
from infra.rollout import plan as rollout_plan
from infra.rollout import run as rollout_run
from infra.rollout.run import Options, rollout
from infra.rollout.step import OK, ROLLED_BACK
from tests.rollout import double
from tests.rollout.double import Crash, Faults, RecordedReader, RecordingEngine
from tests.rollout.support import CLOUD_STACK, REPO, git, workflow_text

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
REPOSITORY = "acme/lockstep"
WORKFLOW = "billing-export"
AUTHORS = ("alice", "bob", "carol")
MERGES = 12


class Clock:
    """A clock that moves forward a few seconds each time it is read, and by hours when told."""

    def __init__(self, start: dt.datetime = START, tick_s: int = 3) -> None:
        self.now = start
        self.tick = dt.timedelta(seconds=tick_s)

    def __call__(self) -> dt.datetime:
        """Return the time, then move on a tick."""
        self.now += self.tick
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward (hours=, minutes=)."""
        self.now += dt.timedelta(**delta)

    def iso(self) -> str:
        """Return the time as drift incidents record it."""
        return self().strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Release:
    """One rollout in the story: which merge to which stack, and how it ended."""

    stack: str
    commit: str
    pr: int
    outcome: str  # released | rolled-back | resumed
    code: int


@dataclass
class History:
    """What `build` made, and the facts the tests check the audit against."""

    origin: Path                  # the repository: branch main and the ledger branch (the auditor clones this)
    trust: Path                   # allowed-signers file with the pipeline's key: the auditor's trust root
    key: Path                     # the pipeline's SSH signing key
    intruder: Path                # a key that is not in the trust root
    merges: list[str]             # the audited merges to main, c1..c12, in order
    docs_only: str                # the out-of-scope docs merge
    prs: dict[str, dict[str, Any]]  # merge commit -> the GitHub facts the gate recorded
    releases: list[Release]
    checkpoints: list[str]        # the ledger tip each rollout printed, in order
    glass: dict[str, Any] = field(default_factory=dict)       # the break-glass window: stack, workflow, target, ...
    incidents: dict[str, str] = field(default_factory=dict)   # "adopted" | "reverted" -> incident id
    lines: list[str] = field(default_factory=list)            # every line the rollouts printed
    platform: Path | None = None  # the engine double's record of what runs on each stack
    clock_at: dt.datetime = START  # the fake clock when the story ended

    def ledger(self) -> GitLedger:
        """Return a reader of the ledger branch (the store's own reader, which raises on any broken link)."""
        return GitLedger(str(self.origin), signing=Signing(None, self.trust))

    def copy(self, dest: Path) -> History:
        """Return the same history in a copy of the repository (for tests that tamper with it)."""
        shutil.copytree(self.origin, dest / "origin", symlinks=True)
        platform = None
        if self.platform is not None:
            platform = dest / "platform"
            shutil.copytree(self.platform, platform)
        return History(**{**self.__dict__, "origin": dest / "origin", "platform": platform})


def recorded_api(prs: dict[str, dict[str, Any]]) -> Callable[[str], Any]:
    """Return GitHub's REST answers for the merges, as recorded: the PR of each commit and its reviews."""
    routes: dict[str, Any] = {f"/repos/{REPOSITORY}/rulesets/rule-suites?ref=refs/heads/main":
                              [{"after_sha": sha, "result": "pass"} for sha in prs]}
    for sha, pr in prs.items():
        routes[f"/repos/{REPOSITORY}/commits/{sha}/pulls"] = [
            {"number": pr["number"], "merged_at": pr["merged_at"], "user": {"login": pr["author"]}}]
        routes[f"/repos/{REPOSITORY}/pulls/{pr['number']}/reviews"] = [
            {"user": {"login": login}, "state": state} for login, state in pr["reviews"]]
    return routes.__getitem__


def facts_for(sha: str, pr: dict[str, Any]) -> dict[str, Any]:
    """Return the gate's GitHub facts for one merge, through the real reader over the recorded payloads."""
    event = {"after": sha, "repository": {"full_name": REPOSITORY}, "pusher": {"name": pr["author"]}}
    return github.facts(event, recorded_api({sha: pr}))


@dataclass
class Builder:
    """The mutable state while the story is recorded."""

    root: Path
    clock: Clock
    signing: Signing
    origin: Path
    platform: Path
    merges: list[str] = field(default_factory=list)
    prs: dict[str, dict[str, Any]] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)

    def merge(self, message: str, *, mode: str | None = None, timeout: str | None = None,
              docs: str | None = None) -> str:
        """Commit one change to main as a merged PR (recorded payloads: author, one other approver)."""
        flow = self.origin / "workflows" / "billing.py"
        if mode is not None or timeout is not None:
            flow.write_text(workflow_text(WORKFLOW, mode=mode or "a", timeout=timeout or "2m"))
        if docs is not None:
            (self.origin / "docs").mkdir(exist_ok=True)
            (self.origin / "docs" / "notes.md").write_text(docs)
        self.clock.advance(hours=5)
        stamp = self.clock().isoformat()
        number = 101 + len(self.merges)
        author = AUTHORS[len(self.merges) % len(AUTHORS)]
        approver = AUTHORS[(len(self.merges) + 1) % len(AUTHORS)]
        git(self.origin, "add", "-A")
        subprocess.run(["git", "-C", str(self.origin), "-c", f"user.name={author}", "-c",
                        f"user.email={author}@example.com", "-c", "commit.gpgsign=false", "commit", "-q", "-m",
                        f"{message} (#{number})"], check=True,
                       env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "PATH": _path()})
        sha = git(self.origin, "rev-parse", "HEAD").strip()
        if docs is None:
            self.merges.append(sha)
            self.prs[sha] = {"number": number, "author": author, "merged_at": stamp,
                             "reviews": [(author, "COMMENTED"), (approver, "APPROVED")]}
        return sha

    def checkout(self, sha: str) -> Path:
        """Return a checkout of the merge (one per commit: the rollout's caches are keyed by path)."""
        at = self.root / "at" / sha[:12]
        if not at.exists():
            git(self.origin, "worktree", "add", "-q", "--detach", str(at), sha)
        return at

    def ledger(self) -> GitLedger:
        """Return a handle on the ledger (the pipeline's: it signs)."""
        return GitLedger(str(self.origin), signing=self.signing)

    def run(self, sha: str, stack: str, *, faults: Faults | None = None, holder: str = "", resume: bool = False,
            expect: int = OK, after: str | None = None) -> int:
        """Roll the merge out to the stack through the real rollout; record what happened."""
        self.clock.advance(minutes=20)
        faults = faults or Faults()
        number = int(self.prs[sha]["number"])
        run_id = holder or f"github:{REPOSITORY}/runs/{number}{stack[0]}"
        opts = Options(self.checkout(sha), stack, run_id, resume=resume, after=after,
                       github=facts_for(sha, self.prs[sha]))
        code = rollout(opts, self.ledger(), lambda root: RecordingEngine(root, self.platform, faults),
                       RecordedReader(self.platform, faults), say=self.lines.append, checkpoint=faults.checkpoint,
                       clock=self.clock)
        assert code == expect, f"{stack} {sha[:12]}: exit {code}, expected {expect}\n" + "\n".join(self.lines[-12:])
        tips = [line for line in self.lines if line.startswith("ledger tip: ")]
        if tips:
            self.checkpoints.append(tips[-1].split()[-1])
        return code

    def release(self, sha: str, *stacks: str) -> None:
        """Release the merge to each stack in turn."""
        for stack in stacks:
            self.run(sha, stack)
            self.releases.append(Release(stack, sha, int(self.prs[sha]["number"]), "released", OK))

    def writer(self, stack: str, holder: str) -> Writer:
        """Return an unleased writer (drift runs, break-glass) on the fake clock."""
        return Writer(self.ledger(), stack, holder, clock=self.clock)


def build(root: Path) -> History:
    """Record the story in the module docstring under `root`; return the history."""
    with memoised_validation():
        return _build(root)


@contextlib.contextmanager
def memoised_validation() -> Iterator[None]:
    """Load and validate each checkout once while the story is recorded.

    Every checkout is one immutable commit, so the answer cannot change between calls; the rollout, its gate and the
    engine double would otherwise re-validate the same tree about six times per rollout.
    """
    loads: dict[Path, Any] = {}
    checks: dict[Path, Any] = {}

    def load(root: Path, memo: Any = None) -> Any:
        key = Path(root).resolve()
        if key not in loads:
            loads[key] = real_load(root, memo)
        return loads[key]

    def validate(root: Path, horizon: Any = None) -> Any:
        key = Path(root).resolve()
        if horizon is not None:
            return real_validate(root, horizon)
        if key not in checks:
            checks[key] = real_validate(root)
        return checks[key]

    real_load, real_validate = checks_module.load_repo, checks_module.validate_repo
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(checks_module, "load_repo", load)
        mp.setattr(preflight_run, "load_repo", load)
        for module in (checks_module, rollout_plan, rollout_run, program, double):
            mp.setattr(module, "validate_repo", validate)
        yield


def _build(root: Path) -> History:
    keys = _keys(root)
    b = Builder(root, Clock(), Signing(keys["pipeline"], keys["trust"]), root / "origin", root / "platform")
    _init_repo(b.origin)
    c = [b.merge("Add the billing export", mode="a1", timeout="2m")]
    b.release(c[0], "staging", "prod")
    c.append(b.merge("Billing export: longer timeout", mode="a2", timeout="3m"))
    b.release(c[1], "staging", "prod")
    c.append(b.merge("Billing export: new mode", mode="a3", timeout="3m"))
    b.release(c[2], "staging")
    c.append(b.merge("Billing export: timeout 4m", mode="a4", timeout="4m"))
    b.release(c[3], "staging", "prod")
    docs_only = b.merge("docs: how billing export works", docs="The billing export runs nightly.\n")
    c.append(b.merge("Billing export: mode b (breaks gcp)", mode="b5", timeout="4m"))
    b.run(c[4], "staging", faults=Faults(fail_urn=":gcp:", release_root=b.checkout(c[4])), expect=ROLLED_BACK)
    b.releases.append(Release("staging", c[4], int(b.prs[c[4]]["number"]), "rolled-back", ROLLED_BACK))
    c.append(b.merge("Billing export: fix mode b", mode="b6", timeout="4m"))
    b.release(c[5], "staging")
    crashed = f"github:{REPOSITORY}/runs/6106"
    try:
        b.run(c[5], "prod", faults=Faults(crash_at="intent:release:0"), holder=crashed)
    except Crash:
        b.lines.append(f"(the runner of {c[5][:12]} on prod died after wave 1's intent)")
    b.clock.advance(minutes=30)  # the lease expires, the same CI run is re-run
    b.run(c[5], "prod", holder=crashed, resume=True)
    b.releases.append(Release("prod", c[5], int(b.prs[c[5]]["number"]), "resumed", OK))
    adopted = _adopted_incident(b)
    c.append(b.merge("Billing export: adopt the hand-tuned timeout", mode="b6", timeout="5m"))
    b.release(c[6], "staging", "prod")
    reverted = _reverted_incident(b, before=lambda: b.release(c[-1], "staging", "prod"),
                                  merge=lambda: c.append(b.merge("Billing export: mode c", mode="c8",
                                                                 timeout="5m")))
    glass = _break_glass(b, c)
    for i in range(3):
        c.append(b.merge(f"Billing export: tuning {i + 1}", mode=f"d{10 + i}", timeout="5m"))
        b.release(c[-1], "staging", "prod")
    assert len(c) == MERGES and len(b.releases) >= 20
    return History(b.origin, keys["trust"], keys["pipeline"], keys["intruder"], c, docs_only, b.prs, b.releases,
                   b.checkpoints, glass, {"adopted": adopted, "reverted": reverted}, b.lines, b.platform, b.clock.now)


def _adopted_incident(b: Builder) -> str:
    """Someone changed the staging gcp timeout by hand; drift records it; `drift adopt` takes it into git (c7)."""
    store = LedgerIncidentStore(b.writer("staging", "drift:staging"))
    b.clock.advance(hours=2)
    found = Finding(WORKFLOW, "gcp", "field", "drift", "timeout", "timeout_s", 240, 300, "out-of-band",
                    detail="timeout changed in the console")
    [incident] = record(store, "staging", [found], b.clock.iso(), [(WORKFLOW, "gcp")])
    b.clock.advance(minutes=40)
    resolve(store, incident.id, "adopted", "billing.py: timeout 4m -> 5m", b.clock.iso())
    return incident.id


def _reverted_incident(b: Builder, *, merge: Callable[[], None], before: Callable[[], None]) -> str:
    """A prod aws change by hand: drift records it, someone asks for a revert, c8's prod release restores git's
    value, and the next drift run sees it gone."""
    store = LedgerIncidentStore(b.writer("prod", "drift:prod"))
    b.clock.advance(hours=3)
    found = Finding(WORKFLOW, "aws", "field", "drift", "memory_mb", "MemorySize", 256, 1024, "out-of-band",
                    detail="memory raised by hand")
    [incident] = record(store, "prod", [found], b.clock.iso(), [(WORKFLOW, "aws")])
    resolve(store, incident.id, "revert-requested", "redeploy git's value", b.clock.iso())
    merge()
    before()
    b.clock.advance(minutes=10)
    record(store, "prod", [], b.clock.iso(), [(WORKFLOW, "aws")])
    return incident.id


def _break_glass(b: Builder, c: list[str]) -> dict[str, Any]:
    """An operator opens a 4h break-glass on staging gcp; c9 rolls out around it; it is closed (revert, reviewed)."""
    w = b.writer("staging", "oncall@acme")
    c.append(b.merge("Billing export: retry budget", mode="c9", timeout="5m"))
    b.clock.advance(minutes=10)
    opened_at = b.clock.now
    expires = (opened_at + dt.timedelta(hours=4)).isoformat(timespec="seconds")
    opened = w.record_unleased("break-glass", evidence={
        "action": "open", "workflow": WORKFLOW, "target": "gcp", "reason": "INC-2231: export stuck, hand-tuned",
        "expires": expires})
    b.release(c[-1], "staging", "prod")
    b.clock.advance(hours=1)
    closed = w.record_unleased("break-glass", evidence={
        "action": "close", "workflow": WORKFLOW, "target": "gcp", "resolution": "revert",
        "reason": "reviewed by dana: the pipeline restores the declared state"})
    return {"stack": "staging", "workflow": WORKFLOW, "target": "gcp", "opened_seq": opened.seq,
            "closed_seq": closed.seq, "expires": expires, "reason": opened.evidence["reason"]}


def _init_repo(origin: Path) -> None:
    """Create the repository with the project's Pulumi.yaml and two stacks of two waves each."""
    (origin / "workflows" / "functions" / "probe").mkdir(parents=True)
    (origin / "workflows" / "functions" / "probe" / "main.py").write_text(
        "def handler(event, context):\n    return 'ok'\n")
    shutil.copy(REPO / "Pulumi.yaml", origin / "Pulumi.yaml")
    for stack in ("staging", "prod"):
        (origin / f"Pulumi.{stack}.yaml").write_text(CLOUD_STACK.format(stack=stack))
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "receive.denyCurrentBranch", "updateInstead")


def _keys(root: Path) -> dict[str, Path]:
    """Make the pipeline's and an intruder's SSH keys, and the auditor's trust root (outside the repository)."""
    keys = root / "keys"
    keys.mkdir(parents=True)
    for name in ("pipeline", "intruder"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(keys / name)],
                       check=True)
    trust = root / "auditor" / "allowed_signers"
    trust.parent.mkdir()
    trust.write_text(f"ledger@lockstep.invalid {(keys / 'pipeline.pub').read_text()}")
    return {"pipeline": keys / "pipeline", "intruder": keys / "intruder", "trust": trust}


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")
