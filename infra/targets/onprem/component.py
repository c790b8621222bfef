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
from infra.model import OnpremHost, StackConfig
from infra.model import Workflow as Wf
from infra.schedule.translate import translate as translate_schedule
from infra.stamps import stamps
from infra.targets.base import Context
from infra.targets.onprem.host.props import props_for
from infra.targets.onprem.host.resource import OnpremWorkflow

TYPE = "lockstep:onprem:Workflow"


def host_of(wf: Wf, stack: StackConfig) -> OnpremHost:
    """Return the host a workflow runs on: its local `host`, else the stack's first host."""
    assert stack.onprem is not None
    name = wf.local("onprem", "host")
    host = stack.onprem.host(str(name)) if name is not None else stack.onprem.hosts[0]
    if host is None:  # the loader reports unknown hosts; this guards callers that skipped it
        raise ValueError(f"workflow {wf.name!r}: host {name!r} is not in stack {stack.name!r}")
    return host


def translate(wf: Wf, stack: StackConfig) -> dict[str, Any]:
    """Return the native on-prem value of every canonical field (what the runner's config.json holds)."""
    host = host_of(wf, stack)
    native = translate_schedule(wf.schedule, host.scheduler, host_timezone=host.timezone)
    r = wf.retry
    return {
        "schedule": native, "timezone": native,
        "retry.attempts": {"attempts": r.attempts},
        "retry.backoff": {"backoff": r.backoff, "delay_s": r.delay_s, "max_delay_s": r.max_delay_s},
        "retry.max_event_age": {"max_event_age_s": r.max_event_age_s},
        "timeout": {"timeout_s": wf.timeout_s},
        "allow_overlap": {"run_lock": not wf.allow_overlap},
        "notify": [n.describe() for n in wf.notify],
        "memory": {"RLIMIT_AS_mb": wf.local("onprem", "memory_mb")},
        "secrets": {k: f"secrets/{v.name}" for k, v in sorted(wf.function.secrets.items())},
        "env": dict(sorted(wf.function.env.items())),
        "runtime": f"{host.name}: python3",
    }


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
        props = props_for(wf, host, ctx.epoch, ctx.commit, private_key_env=ctx.stack.onprem.private_key_env,
                          repo_root=ctx.root)
        if props["stamps"] != stamps(wf, "onprem", ctx.commit):
            raise ValueError(f"on-prem stamps of {wf.name!r} differ from infra.stamps")
        self.resource = _register(naming.logical(wf.name, host.name), props, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"host": host.name, "scheduler": host.scheduler, "version": self.resource.version,
                               "stamps": props["stamps"]})
