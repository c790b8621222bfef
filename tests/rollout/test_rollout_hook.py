"""The program fences itself inside the engine: with a rollout's lease in the environment, every custom resource it
registers carries the `lockstep-lease` hook as before_create/update/delete; the hook refuses once the lease moved."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import program
from infra.ledger import hook
from infra.ledger.fence import Fenced
from infra.ledger.store import GitLedger
from infra.ledger.writer import LeaseCheck, Writer
from infra.preflight import capture as cap_mod
from tests.rollout.support import Repo, bare_remote

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_with_a_lease_the_program_installs_the_hook_for_every_custom_resource(rollout_repo: Repo, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    w = Writer(GitLedger(str(bare_remote(tmp_path))), "staging", "ci-1", clock=lambda: NOW)
    w.acquire()
    for key, value in w.lease_env().items():
        monkeypatch.setenv(key, value)
    installed: list[Any] = []
    real = hook.install
    monkeypatch.setattr(hook, "install", lambda check: installed.append(real(check)) or installed[-1])
    found = cap_mod.capture(lambda: program.run(rollout_repo.at_a, "staging") and None, preview=False)
    assert len(installed) == 1 and found.registrations  # Pulumi's mocks do not run stack transforms: see below
    binding = installed[0]
    assert [h.name for h in binding.before_create] == [hook.HOOK_NAME] == [h.name for h in binding.before_delete]
    add = hook.transform(binding)
    opts = pulumi.ResourceOptions()
    custom = add(pulumi.ResourceTransformArgs(True, "aws:sqs/queue:Queue", "q", {}, opts))
    assert custom is not None and custom.opts.hooks is not None
    assert [h.name for h in custom.opts.hooks.before_update] == [hook.HOOK_NAME]
    assert add(pulumi.ResourceTransformArgs(False, "lockstep:aws:Workflow", "c", {}, opts)) is None


def test_without_a_lease_the_program_installs_no_hook(rollout_repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKSTEP_LEASE", raising=False)
    monkeypatch.setattr(hook, "install", lambda check: pytest.fail("a preview must not install the lease hook"))
    assert cap_mod.capture(lambda: program.run(rollout_repo.at_a, "staging") and None).registrations


def test_the_hook_passes_while_the_lease_is_current_and_refuses_after_a_takeover(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    old = Writer(GitLedger(str(remote)), "staging", "ci-old", ttl_s=60, clock=lambda: NOW)
    old.acquire()
    check = LeaseCheck.from_env(old.lease_env())
    assert check is not None
    before = hook.callback(check)
    args = pulumi.ResourceHookArgs("urn:pulumi:staging::lockstep::aws:sqs/queue:Queue::q", "", "q",
                                   "aws:sqs/queue:Queue", new_inputs={})
    before(args)
    Writer(GitLedger(str(remote)), "staging", "ci-new", ttl_s=60,
           clock=lambda: NOW + dt.timedelta(minutes=5)).acquire()
    check.recheck_s = 0  # the next operation re-reads the tip at once
    with pytest.raises(Fenced, match="create/update of urn:pulumi:staging::lockstep::aws:sqs/queue:Queue::q"):
        before(args)
