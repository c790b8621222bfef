"""The drift tests' emulators (moto, drongo, the fake ARM) serve the import tests too, seeded with a messy estate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.drift.conftest import aws, azure, fake_arm, gcp, moto_url
from tests.drift.fakearm import FakeArm
from tests.drift.support import scratch
from tests.importer import estate
from tests.importer.host import host

__all__ = ["aws", "azure", "estate_repo", "fake_arm", "gcp", "host", "moto_url"]
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture
def estate_repo(tmp_path: Path, aws: Callable[[str], Any], gcp: dict[str, Any], azure: dict[str, Any],
                fake_arm: FakeArm, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Plant the estate on moto, drongo and the fake ARM; return a scratch repo with one declared workflow."""
    import drongo

    for url in (fake_arm.url, UNREACHABLE):  # mock_gcp patches requests, which the Azure clients use
        drongo.core.decorator._CONTROLLER._responses.add_passthru(url)
    estate.plant_aws(aws)
    estate.plant_gcp(gcp)
    estate.plant_azure(azure)
    monkeypatch.setenv("LOCKSTEP_IMPORT_AWS_REGIONS", estate.OTHER_REGION)
    return scratch(tmp_path / "repo", ["nightly-ledger-export"])
