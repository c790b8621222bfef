"""The GCP target: a Cloud Scheduler job calling a private Cloud Function (2nd gen). The only place that knows GCP."""

from __future__ import annotations

from infra.targets.base import ComponentClass, ResourceChecks
from infra.targets.gcp import checks, facts
from infra.targets.gcp.normalize import SOURCES, normalize
from infra.targets.gcp.translate import translate
from infra.targets.spec import TargetSpec


def _component() -> ComponentClass:
    from infra.targets.gcp.component import Workflow

    return Workflow


TARGET = TargetSpec("gcp", "GCP", facts.RESOURCES,
                    ResourceChecks(checks.public_access, checks.privileges, checks.artifact),
                    facts.RESERVED_ENV, translate, normalize, _component, SOURCES)
