"""On-prem: places the SSH dynamic resource (`host.resource.OnpremWorkflow`) for a workflow on its host.

The resource itself (upload, crontab or systemd timer, runner, fencing) lives in `host/`; this component only
chooses the host, builds the inputs with `host.props.props_for` (host, scheduler kind, canonical fields, digests,
stamps) and registers one child: `{workflow}-{host}`.
"""

from __future__ import annotations

import pickle
from typing import Any

import pulumi

from infra import naming
from infra.model import Workflow as Wf
from infra.stamps import with_commit
from infra.targets.base import Context
from infra.targets.onprem.host.props import props_for
from infra.targets.onprem.host.resource import OnpremWorkflow
from infra.targets.onprem.translate import host_of, translate

TYPE = "lockstep:onprem:Workflow"


def _register(name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> OnpremWorkflow:
    """Register the dynamic resource, undoing the SDK's leftover pickle patch.

    pulumi.dynamic's serialize_provider (SDK 3.272.0) wraps pickle._Pickler._batch_setitems once more on every
    dynamic resource and never restores it, so about 950 dynamic resources in one process hit RecursionError
    (found by bench/bench_program.py at 1,000 workflows; same symptom as pulumi/pulumi#17803).
    """
    original = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    try:
        return OnpremWorkflow(name, props, opts=opts)
    finally:
        pickle._Pickler._batch_setitems = original  # type: ignore[attr-defined]


class Workflow(pulumi.ComponentResource):
    """One workflow on its on-prem host."""

    resource: OnpremWorkflow

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        assert ctx.stack.onprem is not None
        host = host_of(wf, ctx.stack)
        desired = translate(wf, ctx.stack).desired
        props = props_for(wf, host, ctx.epoch, ctx.commit, private_key_env=ctx.stack.onprem.private_key_env,
                          repo_root=ctx.root)
        if props["stamps"] != with_commit(desired.stamps, ctx.commit):
            raise ValueError(f"on-prem stamps of {wf.name!r} differ from its desired state")
        self.resource = _register(naming.logical(wf.name, host.name), props, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"host": host.name, "scheduler": host.scheduler, "version": self.resource.version,
                               "stamps": props["stamps"]})
