"""The targets, one folder each with the same surface: `component.Workflow` and `component.translate(wf, stack)`."""

from __future__ import annotations

from types import ModuleType

from infra.targets.aws import component as aws
from infra.targets.azure import component as azure
from infra.targets.gcp import component as gcp
from infra.targets.onprem import component as onprem

TARGET_MODULES: dict[str, ModuleType] = {"aws": aws, "azure": azure, "gcp": gcp, "onprem": onprem}
