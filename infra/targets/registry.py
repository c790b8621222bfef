"""Every target Lockstep deploys to, listed explicitly (no import-time self-registration, no globbing)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from infra.targets import aws, azure, gcp, onprem
from infra.targets.base import Target

TARGETS: Mapping[str, Target] = MappingProxyType({
    "aws": aws.TARGET, "azure": azure.TARGET, "gcp": gcp.TARGET, "onprem": onprem.TARGET,
})
