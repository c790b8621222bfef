"""Fixtures for the rollout tests: one scratch repository (commits A and B) per session, a fresh ledger per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.ledger.store import GitLedger
from infra.rollout.run import Options, rollout
from tests.rollout.double import Faults, RecordedReader, RecordingEngine
from tests.rollout.support import Repo, bare_remote, make_repo


@dataclass
class World:
    """One ledger remote, one platform record, the faults both doubles obey, and what they printed."""

    repo: Repo
    remote: Path
    platform: Path
    faults: Faults
    lines: list[str]

    def run(self, at: Path, stack: str = "staging", holder: str = "runner", **opts: object) -> int:
        """Run one rollout of the checkout `at` to the stack; return its exit code."""
        ledger = GitLedger(str(self.remote))
        return rollout(Options(at, stack, holder, **opts), ledger,  # type: ignore[arg-type]
                       lambda root: RecordingEngine(root, self.platform, self.faults),
                       RecordedReader(self.platform, self.faults), say=self.lines.append,
                       checkpoint=self.faults.checkpoint)

    def entries(self) -> list[object]:
        """Return the ledger's entries."""
        return list(GitLedger(str(self.remote)).read())


@pytest.fixture(scope="session")
def rollout_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """The scratch repository, made once."""
    return make_repo(tmp_path_factory.mktemp("rollout-repo"))


@pytest.fixture(scope="session")
def released_a(rollout_repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A ledger and platform where A is released and verified on staging (copied by each test that needs it)."""
    base = tmp_path_factory.mktemp("released-a")
    world = World(rollout_repo, bare_remote(base), base / "platform", Faults(), [])
    assert world.run(rollout_repo.at_a, holder="seed") == 0, world.lines
    return world.remote, world.platform


@pytest.fixture
def world(rollout_repo: Repo, released_a: tuple[Path, Path], tmp_path: Path) -> World:
    """A world where A is released on staging: copies of the seeded ledger remote and platform."""
    remote, platform = tmp_path / "ledger.git", tmp_path / "platform"
    shutil.copytree(released_a[0], remote)
    shutil.copytree(released_a[1], platform)
    return World(rollout_repo, remote, platform, Faults(release_root=rollout_repo.at_b), [])


@pytest.fixture
def empty_world(rollout_repo: Repo, tmp_path: Path) -> World:
    """A world with an empty ledger and nothing deployed."""
    return World(rollout_repo, bare_remote(tmp_path), tmp_path / "platform", Faults(), [])


Runner = Callable[..., int]
