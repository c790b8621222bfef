"""Fixtures for policy tests: hand-written registrations run through the real analyzer (pulumi-policy's own path)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

from infra.loader import LoadResult, load_repo
from infra.model import Workflow
from infra.preflight import analyze
from infra.preflight.capture import Registration
from policies import lib

REPO = Path(__file__).resolve().parents[1]
STACK = "staging"
PREFIX = "urn:pulumi:staging::lockstep::"


def reg(type_: str, name: str, props: dict[str, Any], *, parent: str = "", custom: bool = True) -> Registration:
    """Return a registration as the capture harness records it."""
    obj = struct_pb2.Struct()
    obj.update(props)
    return Registration(urn=f"{PREFIX}{type_}::{name}", type=type_, name=name, custom=custom, parent=parent,
                        dependencies=(), property_dependencies={}, provider="", inputs=props, options={}, object=obj)


def stamps(workflow: Workflow, target: str) -> dict[str, str]:
    """Return correct stamps for a workflow on a target."""
    return {"lockstep-workflow": workflow.name, "lockstep-digest": workflow.digest,
            "lockstep-schema": str(workflow.schema), "lockstep-commit": "0" * 40, "lockstep-target": target}


def example() -> LoadResult:
    """Return the example repo, loaded."""
    return load_repo(REPO)


def model(*workflows: Workflow) -> dict[str, str]:
    """Make these workflows the declared set the rules see; return the policy config naming them."""
    base = example()
    root = Path("/fixture") / str(abs(hash(tuple(w.digest for w in workflows))))
    lib.provide(dataclasses.replace(base, root=root, workflows=tuple(workflows)), STACK)
    return {"repoRoot": str(root), "stack": STACK}


def workflow(name: str = "nightly-ledger-export", **changes: Any) -> Workflow:
    """Return an example workflow, optionally changed (the digest is kept unless given)."""
    found = next(w for w in example().workflows if w.name == name)
    return dataclasses.replace(found, **changes)


def run(policy: Any, regs: Sequence[Registration], config: dict[str, str] | None = None) -> list[str]:
    """Run one policy over the registrations the way the preview does; return the violation texts."""
    svc = analyze.servicer([policy], config or {"repoRoot": str(REPO), "stack": STACK})
    if hasattr(policy, "validate") and policy.__class__.__name__ == "StackValidationPolicy":
        diags = analyze.analyze_stack(svc, analyze.stack_request(regs))
    else:
        diags = analyze.analyze_resources(svc, regs)
    return [d.message.split("\n", 1)[-1] for d in diags]
