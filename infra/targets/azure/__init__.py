"""The Azure target: a Function App with a timer trigger on the stack's plan. The only place that knows Azure."""

from __future__ import annotations

from infra.targets.azure import checks, facts
from infra.targets.azure.normalize import SOURCES, normalize
from infra.targets.azure.translate import translate
from infra.targets.base import ComponentClass, ResourceChecks
from infra.targets.spec import TargetSpec


def _component() -> ComponentClass:
    from infra.targets.azure.component import Workflow

    return Workflow


TARGET = TargetSpec("azure", "Azure", facts.RESOURCES,
                    ResourceChecks(checks.public_access, checks.privileges, checks.artifact),
                    facts.RESERVED_ENV, translate, normalize, _component, SOURCES)
