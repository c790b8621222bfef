"""One rollout run from start to exit code: lease, gate every stack, check what must come first, then step.

Exit codes (docs/rollout.md): 0 released and verified; 1 bad input; 3 refused (gate blocked, staging not verified,
bad release, expired break-glass); 4 another runner holds the lease; 5 a wave failed and was rolled back; 6 the
rollback is incomplete (ghosts, no verified release to return to): a human is needed; 7 this runner was fenced.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.checks import validate_repo
from infra.engine.base import Engine
from infra.errors import SpecInvalid
from infra.ledger.entry import Entry
from infra.ledger.fence import DEFAULT_TTL_S, Fenced, LeaseHeld
from infra.ledger.store import GitLedger
from infra.ledger.writer import Writer
from infra.rollout import plan as planning
from infra.rollout.live import LiveReader
from infra.rollout.rollback import release_at
from infra.rollout.state import fold, released
from infra.rollout.step import FENCED, HELD, OK, REFUSED, Halt, Rollout


@dataclass
class Options:
    """What the user asked for (`lockstep rollout ...`)."""

    root: Path
    stack: str
    holder: str
    commit: str = ""
    resume: bool = False
    dry_run: bool = False
    ttl_s: int = DEFAULT_TTL_S
    soak_s: int = 0
    after: str | None = None          # the stack whose verified release of the same commit must come first
    without_after: str = ""           # break-glass reason to skip that
    override_bad: str = ""            # break-glass reason to re-release a bad release
    github: Mapping[str, Any] = field(default_factory=dict)


def required_first(stack: str, stacks: list[str], after: str | None) -> str | None:
    """Return the stack that must be verified first: `after` if given, else staging for prod."""
    if after is not None:
        return after or None
    return "staging" if stack == "prod" and "staging" in stacks else None


def rollout(opts: Options, ledger: GitLedger, engine_for: Callable[[Path], Engine], reader: LiveReader, *,
            say: Callable[[str], None] = print, checkpoint: Callable[[str], None] = lambda _n: None,
            clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> int:
    """Run one rollout of the commit to the stack; return its exit code."""
    commit = opts.commit or planning.head_commit(opts.root)
    writer = Writer(ledger, opts.stack, opts.holder, opts.ttl_s, clock)
    if opts.dry_run:
        return _dry_run(opts, commit, engine_for, say)
    try:
        lease = writer.acquire(reclaim=opts.resume, evidence={"commit": commit})
    except LeaseHeld as exc:
        say(f"lockstep rollout: {exc}")
        return HELD
    say(f"stack {opts.stack}: lease epoch {lease.epoch} ({lease.evidence['action']}) for {commit[:12]}")
    try:
        code = _leased(opts, commit, writer, engine_for, reader, say, checkpoint)
    except Halt as halt:
        say(f"lockstep rollout: {halt}")
        code = halt.code
    except Fenced as exc:
        say(f"lockstep rollout: fenced: {exc}")
        return FENCED
    except SpecInvalid as exc:  # the commit does not validate: nothing can be applied; give the lease back
        say(f"lockstep rollout: {len(exc.errors)} error(s) at {commit[:12]}; nothing was applied:\n{exc}")
        code = REFUSED
    try:
        last = writer.release()
    except Fenced as exc:
        say(f"lockstep rollout: fenced: {exc}")
        return FENCED
    publish_tip(last, say)
    return code


def publish_tip(entry: Entry, say: Callable[[str], None], env: Mapping[str, str] = os.environ) -> None:
    """Publish the ledger tip outside the ledger: print it, and hand it to the CI job's outputs.

    An auditor who holds a tip published here runs `lockstep audit verify --checkpoint HASH`: a ledger branch that
    was replaced, even by a self-consistent forgery, no longer contains it.
    """
    say(f"ledger tip: entry {entry.seq} {entry.digest()}")
    out = env.get("GITHUB_OUTPUT")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(f"ledger_tip={entry.digest()}\nledger_seq={entry.seq}\n")


def _leased(opts: Options, commit: str, writer: Writer, engine_for: Callable[[Path], Engine], reader: LiveReader,
            say: Callable[[str], None], checkpoint: Callable[[str], None]) -> int:
    release = planning.load(opts.root, opts.stack, commit)
    chain = writer.ledger.read()
    state = fold(chain, opts.stack, commit, len(release.waves))
    if state.gate != "pass":
        _gate(opts, release, writer, engine_for, say)
    _prerequisites(opts, release, writer, say)
    if released(writer.ledger.read(), opts.stack, commit):
        say(f"stack {opts.stack}: {commit[:12]} is already released and verified; nothing to do")
        return OK
    r = Rollout(release, engine_for, writer, reader, checkpoint=checkpoint, say=say, soak_s=opts.soak_s,
                rollback_to=release_at(opts.root, opts.stack))
    r.run()
    say(f"stack {opts.stack}: {commit[:12]} released to {len(release.waves)} wave(s), every one verified")
    return OK


def _gate(opts: Options, release: planning.Release, writer: Writer, engine_for: Callable[[Path], Engine],
          say: Callable[[str], None]) -> None:
    """Validate and preview every stack with every policy at the commit; record the gate; halt unless all pass."""
    result = validate_repo(opts.root)
    stacks: dict[str, Any] = {}
    if result.errors:
        stacks["validate"] = {"blocked": True, "errors": [e.render() for e in result.errors][:20]}
    else:
        engine = engine_for(opts.root)
        for stack in result.stacks:
            verdict = engine.preview(stack.name)
            blocking = [f"{f.policy}: {f.message.splitlines()[-1] if f.message else ''}" for f in verdict.findings
                        if f.blocking]
            stacks[stack.name] = {"blocked": verdict.blocked, "error": verdict.error, "blocking": blocking[:20],
                                  "changes": dict(verdict.changes)}
            say(f"gate: {stack.name} {'BLOCKED' if verdict.blocked else 'pass'}"
                + "".join(f"\n  {b}" for b in blocking[:5]) + (f"\n  {verdict.error}" if verdict.error else ""))
    blocked = any(s["blocked"] for s in stacks.values())
    writer.record("gate", commit=release.commit, digests=release.digests, evidence={
        "result": "blocked" if blocked else "pass", "stacks": stacks, "github": dict(opts.github)})
    if blocked:
        raise Halt(REFUSED, f"the gate blocked {release.commit[:12]}: nothing was applied to any target")


def _prerequisites(opts: Options, release: planning.Release, writer: Writer, say: Callable[[str], None]) -> None:
    """Refuse a prod rollout before the same commit's staging release is verified, and a bad release's re-run."""
    chain = writer.ledger.read()
    stacks = [s.name for s in validate_repo(opts.root).stacks]
    first = required_first(opts.stack, stacks, opts.after)
    if first and not released(chain, first, release.commit):
        if not opts.without_after:
            raise Halt(REFUSED, f"{release.commit[:12]} is not recorded as verified on {first}: roll it out there "
                       f"first (lockstep rollout --stack {first}), or record why not with --without-staging REASON")
        writer.record("break-glass", commit=release.commit, evidence={
            "scope": "skip-after", "after": first, "reason": opts.without_after})
        say(f"break-glass recorded: {opts.stack} without a verified {first} release ({opts.without_after})")
    state = fold(chain, opts.stack, release.commit, len(release.waves))
    if state.bad and opts.override_bad:
        writer.record("break-glass", commit=release.commit, evidence={
            "scope": "re-release", "reason": opts.override_bad})
        say(f"break-glass recorded: re-releasing the bad release {release.commit[:12]} ({opts.override_bad})")


def _dry_run(opts: Options, commit: str, engine_for: Callable[[Path], Engine], say: Callable[[str], None]) -> int:
    release = planning.load(opts.root, opts.stack, commit)
    engine = engine_for(opts.root)
    blocked = False
    for stack in validate_repo(opts.root).require_valid().stacks:
        verdict = engine.preview(stack.name)
        blocked |= verdict.blocked
        say(f"gate: {stack.name} {'BLOCKED' if verdict.blocked else 'pass'}")
    for wave in release.waves:
        say(f"wave {wave.index + 1} [{', '.join(wave.targets)}]: {len(wave.urns)} resource(s), "
            f"{len(release.wave_digests(wave))} workflow(s)")
    say("dry run: nothing was leased, applied or recorded")
    return REFUSED if blocked else OK
