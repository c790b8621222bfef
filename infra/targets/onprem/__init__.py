"""The on-prem target: a workflow on a server-room host over SSH, started by cron or a systemd timer."""

from __future__ import annotations

from infra.targets.base import ComponentClass, ResourceChecks
from infra.targets.onprem import checks, facts
from infra.targets.onprem.normalize import normalize
from infra.targets.onprem.translate import translate
from infra.targets.spec import TargetSpec


def _component() -> ComponentClass:
    from infra.targets.onprem.component import Workflow

    return Workflow


TARGET = TargetSpec("onprem", "on-prem", facts.RESOURCES,
                    ResourceChecks(checks.public_access, checks.privileges, checks.artifact),
                    facts.RESERVED_ENV, translate, normalize, _component)
