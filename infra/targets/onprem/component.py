"""On-prem: places the SSH dynamic resource (`host.resource.OnpremWorkflow`) for a workflow on its host.

The resource itself (upload, crontab or systemd timer, runner, fencing) lives in `host/`; this component only
chooses the host, builds the inputs with `host.props.props_for` (host, scheduler kind, canonical fields, digests,
stamps) and registers one child: `{workflow}-host`. A crontab line the workflow's import record adopts is passed
as the `adopt` input: the resource's create swaps that line for Lockstep's block (not Pulumi's import option: the
dynamic resource has no live twin to read, only a line to take over).
"""

from __future__ import annotations

import pickle
from typing import Any

import pulumi

from infra import naming
from infra.model import Workflow as Wf
from infra.targets.base import Context
from infra.targets.onprem.host.props import props_from
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

    @staticmethod
    def provider_key(_d: object) -> None:
        """Return None: the SSH dynamic provider needs no explicit provider resource."""
        return None

    @staticmethod
    def new_provider(name: str, d: object) -> pulumi.ProviderResource:
        """Never called (provider_key is None)."""
        raise NotImplementedError(f"on-prem needs no provider ({name})")

    def __init__(self, name: str, wf: Wf, ctx: Context, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        assert ctx.stack.onprem is not None
        host = host_of(wf, ctx.stack)
        desired = translate(wf, ctx.stack).desired  # everything deployed comes from here; the host adds the route
        line = ctx.live("onprem").get("host")  # a crontab line adopted by `lockstep import adopt`
        props = props_from(desired, host, (ctx.root / wf.function.source).resolve(), ctx.epoch, ctx.commit,
                           private_key_env=ctx.stack.onprem.private_key_env,
                           adopt={"id": line.id, "line": line.names["line"]} if line else None)
        # One name whatever the host, so a move to another host is a replace of this resource (which the provider
        # orders delete-first: the job never runs on both); the aliases keep resources named after their host.
        aliases = [pulumi.Alias(name=naming.logical(wf.name, h.name)) for h in ctx.stack.onprem.hosts]
        self.resource = _register(naming.logical(wf.name, "host"), props,
                                  pulumi.ResourceOptions(parent=self, aliases=aliases))
        self.register_outputs({"host": host.name, "scheduler": host.scheduler, "version": self.resource.version,
                               "stamps": props["stamps"]})
