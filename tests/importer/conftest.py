"""The drift tests' emulators (moto, drongo, the fake ARM) serve the import tests too."""

from tests.drift.conftest import aws, azure, fake_arm, gcp, moto_url

__all__ = ["aws", "azure", "fake_arm", "gcp", "moto_url"]
