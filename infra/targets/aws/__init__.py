"""The AWS target: an EventBridge Scheduler schedule invoking a Lambda function. The only place that knows AWS."""

from __future__ import annotations

from infra.targets.aws import checks, facts
from infra.targets.aws.normalize import SOURCES, normalize
from infra.targets.aws.translate import translate
from infra.targets.base import ComponentClass, ResourceChecks
from infra.targets.spec import TargetSpec


def _component() -> ComponentClass:
    from infra.targets.aws.component import Workflow

    return Workflow


TARGET = TargetSpec("aws", "AWS", facts.RESOURCES,
                    ResourceChecks(checks.public_access, checks.privileges, checks.artifact),
                    facts.RESERVED_ENV, translate, normalize, _component, SOURCES)
