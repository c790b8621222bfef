"""Run a Pulumi program under the SDK's own mocks and record every registration in full.

The SDK's MockMonitor keeps only type, name and inputs; the subclass below also keeps parent, dependencies and
options (see the SDK's own tests, test_stack_registers_outputs.py). Nothing here talks to a cloud: outputs that a
provider would compute (ARNs, URLs, e-mail addresses of service accounts) are made up deterministically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ACCOUNT = "000000000000"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Registration:
    """One resource as the engine would have received it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    property_dependencies: Mapping[str, tuple[str, ...]]
    provider: str
    inputs: Mapping[str, Any]
    options: Mapping[str, Any]
    object: struct_pb2.Struct = field(repr=False, compare=False)


@dataclass
class Capture:
    """Every registration of one program run, in order, and each component's registered outputs."""

    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        """Return the registrations of one resource type."""
        return [r for r in self.registrations if r.type == type_]

    def by_urn(self, urn: str) -> Registration:
        """Return the registration with this URN, or raise KeyError."""
        for r in self.registrations:
            if r.urn == urn:
                return r
        raise KeyError(urn)

    def children(self, parent_urn: str) -> list[Registration]:
        """Return the registrations whose parent is this URN."""
        return [r for r in self.registrations if r.parent == parent_urn]


class LockstepMocks(pulumi.runtime.Mocks):
    """Deterministic stand-ins for what providers compute."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Echo the inputs and add the computed outputs the components read."""
        outs = dict(args.inputs)
        token = args.typ
        short = hashlib.sha256(f"{token}:{args.name}".encode()).hexdigest()[:8]
        if token.startswith("aws:"):
            outs.setdefault("arn", _aws_arn(token, str(outs.get("name") or args.name)))
            outs.setdefault("name", args.name)
            if token == "aws:sqs/queue:Queue":
                outs.setdefault("url", f"https://sqs.eu-central-1.amazonaws.com/{ACCOUNT}/{args.name}")
        elif token.startswith("gcp:"):
            outs.setdefault("name", args.name)
            if token == "gcp:serviceaccount/account:Account":
                project = outs.get("project", "mock-project")
                outs.setdefault("email", f"{outs.get('accountId', args.name)}@{project}.iam.gserviceaccount.com")
            if token == "gcp:cloudfunctionsv2/function:Function":
                outs.setdefault("url", f"https://{args.name}-{short}.a.run.app")
        elif token.startswith("azure-native:"):
            outs.setdefault("name", args.name)
            return _azure_id(token, args.name, outs), _azure_outputs(token, short, outs)
        return args.resource_id or f"{args.name}-{short}", outs  # an import keeps the live resource's ID

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        """Answer invokes; the components make none, so an invoke is a bug worth seeing."""
        raise NotImplementedError(f"unexpected invoke {args.token} under mocks")


_AWS_ARN = {  # the shapes AWS really uses, for the types whose ARNs the components put into policies
    "aws:cloudwatch/logGroup:LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}",
    "aws:lambda/function:Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "aws:iam/role:Role": "arn:aws:iam::{account}:role/{name}",
    "aws:sqs/queue:Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{name}",
}


def _aws_arn(token: str, name: str) -> str:
    """Return a deterministic ARN for an AWS resource."""
    service = token.split(":")[1].split("/")[0]
    shape = _AWS_ARN.get(token, "arn:aws:{service}:{region}:{account}:{name}")
    return shape.format(service=service, region="eu-central-1", account=ACCOUNT, name=name)


def _azure_id(token: str, name: str, outs: dict[str, Any]) -> str:
    """Return an ARM-shaped resource ID (components derive the subscription from it)."""
    module, kind = token.split(":")[1], token.split(":")[2]
    group = outs.get("resourceGroupName") or "mock-rg"
    if token == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{outs.get('resourceGroupName', name)}"
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.{module}/{kind}/{name}"


def _azure_outputs(token: str, short: str, outs: dict[str, Any]) -> dict[str, Any]:
    """Add what Azure computes and the components read: an identity's principal, an Insights connection string."""
    if token == "azure-native:web:WebApp" and isinstance(outs.get("identity"), dict):
        outs["identity"] = {**outs["identity"], "principalId": f"00000000-0000-0000-0000-{short:0>12}",
                            "tenantId": SUBSCRIPTION}
    if token == "azure-native:applicationinsights:Component":
        outs.setdefault("connectionString", f"InstrumentationKey=00000000-0000-0000-0000-{short:0>12}")
    return outs


class RecordingMonitor(pmocks.MockMonitor):
    """A MockMonitor that also records each request's parent, dependencies and options."""

    def __init__(self, mocks: pulumi.runtime.Mocks, capture: Capture) -> None:
        super().__init__(mocks)
        self.capture = capture

    def RegisterResource(self, request: Any) -> Any:
        """Register through the SDK's mock, then record the full request."""
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.capture.registrations.append(_record(request, response.urn))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        """Keep component outputs (the SDK's mock drops them)."""
        self.capture.outputs[request.urn] = MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _record(request: Any, urn: str) -> Registration:
    options = {
        "protect": request.protect if request.HasField("protect") else None,
        "ignoreChanges": list(request.ignoreChanges),
        "deleteBeforeReplace": request.deleteBeforeReplace,
        "retainOnDelete": request.retainOnDelete if request.HasField("retainOnDelete") else None,
        "replaceOnChanges": list(request.replaceOnChanges),
        "aliases": [MessageToDict(a) for a in request.aliases],
        "customTimeouts": MessageToDict(request.customTimeouts) if request.HasField("customTimeouts") else None,
        "additionalSecretOutputs": list(request.additionalSecretOutputs),
        "providers": dict(request.providers),
        "version": request.version,
        "import": request.importId,  # the live resource's ID the import option adopts ("" for none)
    }
    return Registration(
        urn=urn, type=request.type, name=request.name, custom=request.custom, parent=request.parent,
        dependencies=tuple(request.dependencies),
        property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
        provider=request.provider, inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
        options=options, object=request.object,
    )


def capture(program: Callable[[], None], *, project: str = "lockstep", stack: str = "staging",
            preview: bool = True) -> Capture:
    """Run `program` under mocks for one stack and return everything it registered."""
    result = Capture()
    mocks = LockstepMocks()
    settings.set_root_resource(None)  # type: ignore[arg-type] # a second run in one process must not reuse the first run's Stack
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview,
                             monitor=RecordingMonitor(mocks, result))
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))
    return result
