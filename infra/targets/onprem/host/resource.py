"""OnpremWorkflow: the Pulumi resource for one workflow on one on-prem host (a dynamic resource)."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import Resource

from infra.targets.onprem.host.provider import OnpremWorkflowProvider


class OnpremWorkflow(Resource, module="lockstep-onprem", name="Workflow"):
    """One workflow deployed over SSH to cron or systemd; inputs come from `props.props_for`."""

    version: pulumi.Output[str]
    digest: pulumi.Output[str]
    epoch: pulumi.Output[int]
    live: pulumi.Output[dict[str, Any]]
    stamps: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        """Register the workflow; `props` is the plain dict `props_for` returns (never key material)."""
        outputs = dict(props, version=None, live=None)
        super().__init__(OnpremWorkflowProvider(), name, outputs, opts)
