"""The rollout reads clouds through the drift stage's `read_live`: what it reports becomes Live or Unreadable."""

from __future__ import annotations

from typing import Any

import pytest

from infra.checks import validate_repo
from infra.drift import collect
from infra.rollout.live import DriftReader, Live, Readers, Unreadable
from infra.targets.base import Observed
from infra.targets.liveread import LiveRead
from tests.rollout.support import Repo


@pytest.mark.parametrize(("got", "expected"), [
    (LiveRead("gcp", resources={"rollout-probe": [Observed("gcp:x", "n", {})]}), Live((Observed("gcp:x", "n", {}),))),
    (LiveRead("gcp", missing={"rollout-probe": "no function"}), Live(())),
    (LiveRead("gcp", unreadable={"rollout-probe": "403 denied"}), Unreadable("403 denied")),
    (LiveRead("gcp", error="endpoint down"), Unreadable("endpoint down")),
])
def test_a_live_read_maps_to_live_or_unreadable(rollout_repo: Repo, monkeypatch: pytest.MonkeyPatch, got: LiveRead,
                                                expected: object) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(collect, "reader", lambda target: lambda stack, wanted, connect: seen.append(wanted) or got)
    monkeypatch.setattr(collect, "connect_from_env", lambda target: {})
    result = validate_repo(rollout_repo.at_a).require_valid()
    assert DriftReader(rollout_repo.at_a).read(result.stack("staging"), result.workflows[0], "gcp") == expected
    assert list(seen[0]) == ["rollout-probe"]


def test_a_target_without_a_reader_is_unreadable(rollout_repo: Repo) -> None:
    result = validate_repo(rollout_repo.at_a).require_valid()
    found = Readers({}).read(result.stack("staging"), result.workflows[0], "aws")
    assert isinstance(found, Unreadable) and "no live reader" in found.why
