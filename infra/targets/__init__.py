"""The targets, one module each with the same surface: `Workflow` (the component), `translate(wf, stack)`."""

from __future__ import annotations

from types import ModuleType

from infra.targets import aws, azure, gcp, onprem

TARGET_MODULES: dict[str, ModuleType] = {"aws": aws, "azure": azure, "gcp": gcp, "onprem": onprem}
