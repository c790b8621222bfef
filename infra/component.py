"""lockstep:index:Workflow: one component per workflow, with one child component per target it deploys to."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from infra import naming
from infra.model import Workflow
from infra.targets.base import Context
from infra.targets.registry import TARGETS

TYPE = "lockstep:index:Workflow"


class WorkflowComponent(pulumi.ComponentResource):
    """A workflow deployed to the given targets; `targets[name]` is the target's component."""

    def __init__(self, wf: Workflow, ctx: Context, targets: Sequence[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, wf.name, None, opts)
        self.workflow = wf
        self.targets: dict[str, pulumi.ComponentResource] = {}
        for target in targets:
            component = TARGETS[target].component()
            self.targets[target] = component(naming.logical(wf.name, target), wf, ctx,
                                             pulumi.ResourceOptions(parent=self))
        self.register_outputs({"workflow": wf.name, "digest": wf.digest, "schema": str(wf.schema),
                               "commit": ctx.commit, "targets": list(targets),
                               "source": f"{wf.location.path}:{wf.location.line}"})
