"""`lockstep rollout`: gate every stack, lease the stack, apply and verify wave by wave, roll back, resume."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.errors import LockstepError
from infra.ledger import github
from infra.ledger.entry import Entry
from infra.ledger.fence import DEFAULT_TTL_S
from infra.ledger.store import BRANCH, GitLedger, Signing


def register(subparsers: Any) -> None:
    """Add the `rollout` subcommand."""
    p = subparsers.add_parser("rollout", help="release HEAD to a stack: gate, lease, waves, verify, roll back")
    p.add_argument("--stack", required=True, help="stack to release to (staging, prod)")
    p.add_argument("--engine", choices=("pulumi", "offline"), default="pulumi",
                   help="pulumi: the Pulumi CLI (Automation API); offline: --dry-run only (mocks never deploy)")
    p.add_argument("--resume", action="store_true", help="take over this runner's own lease after a crash")
    p.add_argument("--dry-run", action="store_true", help="run the gate and show the waves; lease and apply nothing")
    p.add_argument("--holder", default=None, help="who holds the lease (default: the CI run, else user@host)")
    p.add_argument("--ledger-remote", default="origin", help="git remote (name or URL) holding the ledger branch")
    p.add_argument("--ledger-branch", default=BRANCH, help=f"ledger branch (default {BRANCH})")
    p.add_argument("--lease-ttl", type=int, default=DEFAULT_TTL_S, help="seconds a lease lives without a heartbeat")
    p.add_argument("--soak", type=int, default=0, help="seconds to wait after the last wave, then verify again")
    p.add_argument("--after", default=None, help="stack whose verified release must come first (default: staging "
                   "for prod; '' for none)")
    p.add_argument("--without-staging", default="", metavar="REASON",
                   help="break-glass: release without the prerequisite stack, recording why")
    p.add_argument("--override-bad", default="", metavar="REASON",
                   help="break-glass: re-release a commit recorded as bad, recording why")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: the progress lines on stderr, then one document with the outcome and the ledger tip")
    p.add_argument("--root", type=Path, default=None, help="repository root (default: this repo)")
    p.set_defaults(func=cmd_rollout)


def default_holder(env: dict[str, str] | None = None) -> str:
    """Return the CI run (same across a re-run's attempts, so --resume reclaims it), else user@host."""
    env = env if env is not None else dict(os.environ)
    if env.get("GITHUB_RUN_ID"):
        return f"github:{env.get('GITHUB_REPOSITORY', '')}/runs/{env['GITHUB_RUN_ID']}"
    return f"{getpass.getuser()}@{socket.gethostname()}"


def remote_url(root: Path, remote: str) -> str:
    """Return the ledger remote's URL (a configured remote name is resolved in the repository)."""
    done = subprocess.run(["git", "-C", str(root), "remote", "get-url", remote], capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout.strip()
    if "/" in remote or ":" in remote:
        return remote
    raise LockstepError(f"--ledger-remote: {remote!r} — is not a remote of {root} — add it (git remote add) or pass "
                        "a URL or path")


def cmd_rollout(args: argparse.Namespace) -> int:
    """Run the rollout with the chosen engine; the exit code says how it ended (docs/rollout.md)."""
    # Imported here: the rollout builds the program, which is code under review; parsing the CLI must not load it.
    from infra.engine.automation import AutomationEngine
    from infra.rollout.live import DriftReader, OnpremReader, Readers
    from infra.rollout.run import Options, rollout

    if args.engine == "offline" and not args.dry_run:
        raise LockstepError("--engine offline never deploys (it runs the program under mocks): add --dry-run, or "
                            "use --engine pulumi with the stack's credentials")
    root = args.root.resolve()
    ledger = GitLedger(remote_url(root, args.ledger_remote), args.ledger_branch, Signing.from_env())
    opts = Options(root, args.stack, args.holder or default_holder(), resume=args.resume, dry_run=args.dry_run,
                   ttl_s=args.lease_ttl, soak_s=args.soak, after=args.after, without_after=args.without_staging,
                   override_bad=args.override_bad, github=github.from_environment())

    def engine_for(tree: Path) -> Any:
        if args.engine == "offline":
            from infra.engine.offline import OfflineEngine
            return OfflineEngine(tree, compare=False)
        return AutomationEngine(tree, tree / ".lockstep" / "plans")

    # Clouds read through the drift stage's readers (infra/targets/<t>/live.py); on-prem over SSH from the manifest.
    reader = Readers({**{t: DriftReader(root) for t in ("aws", "azure", "gcp")}, "onprem": OnpremReader(root)})
    if args.format == "text":
        return rollout(opts, ledger, engine_for, reader, say=lambda line: print(line, flush=True))
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, file=sys.stderr, flush=True)
    code = rollout(opts, ledger, engine_for, reader, say=say)
    print(json.dumps(outcome(args.stack, code, lines, ledger.read(), dry_run=args.dry_run), indent=2))
    return code


MEANING = {0: "released", 1: "bad input", 3: "refused", 4: "another runner holds the lease",
           5: "rolled back", 6: "rollback incomplete: a human is needed", 7: "fenced"}


def outcome(stack: str, code: int, lines: list[str], chain: Sequence[Entry], *, dry_run: bool = False
            ) -> dict[str, Any]:
    """Return the JSON document of one rollout: exit code and its meaning, the ledger tip, and the lines said."""
    tip = chain[-1] if chain else None
    said = "dry run: nothing was leased or applied" if dry_run and code == 0 else MEANING.get(code, "unknown")
    return {"ok": code == 0, "exit": code, "outcome": said, "stack": stack, "dry_run": dry_run,
            "ledger_tip": {"seq": tip.seq, "digest": tip.digest(), "kind": tip.kind} if tip else None,
            "lines": lines}
