"""Fixtures for the audit tests: the recorded history, built once per session."""

from __future__ import annotations

import pytest

from tests.audit.history import History, build


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The recorded history (tests/audit/history.py): never modify it; tamper with `recorded.copy(tmp_path)`."""
    return build(tmp_path_factory.mktemp("audit-history"))
