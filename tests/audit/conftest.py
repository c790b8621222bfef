"""Fixtures for the audit tests: the recorded history, built once per session, and clones of it for the auditor."""

from __future__ import annotations

import pytest

from tests.audit.flawed import Flawed, build_flawed
from tests.audit.history import History, build


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The recorded history (tests/audit/history.py): never modify it; tamper with `recorded.copy(tmp_path)`."""
    return build(tmp_path_factory.mktemp("audit-history"))


@pytest.fixture(scope="session")
def flawed(recorded: History, tmp_path_factory: pytest.TempPathFactory) -> Flawed:
    """The recorded history continued with four process failures (tests/audit/flawed.py)."""
    return build_flawed(recorded, tmp_path_factory.mktemp("audit-flawed"))
