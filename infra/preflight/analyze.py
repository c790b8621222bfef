"""Run the real policy pack in-process: captured registrations -> analyzer requests -> pulumi-policy -> diagnostics.

The analyzer is pulumi-policy's own `_PolicyAnalyzerServicer` (private; pinned to pulumi-policy==1.21.0 and
covered by tests/test_preview_analyzer_smoke.py), so proxies, configuration and enforcement levels behave exactly as
under `pulumi preview --policy-pack policies`. Resource rules get inputs (as the engine sends them), stack rules get
inputs as outputs (what the engine propagates for resources a preview would create) and components' outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, Policy
from pulumi_policy.policy import _PolicyAnalyzerServicer

from infra.preflight.capture import Registration

__all__ = ["Analyzer", "Diagnostic", "analyze_resources", "analyze_stack", "analyzer_pb2", "configure",
           "servicer", "stack_request"]
Analyzer = _PolicyAnalyzerServicer  # the private class, named once; see the module docstring
PACK_VERSION = "0.1.0"
CANT_RUN = "can't run policy"
_LEVELS = {EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY, EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
           EnforcementLevel.REMEDIATE: analyzer_pb2.REMEDIATE, EnforcementLevel.DISABLED: analyzer_pb2.DISABLED}
_NAMES = {v: k.lower() for k, v in analyzer_pb2.EnforcementLevel.items()}


@dataclass(frozen=True)
class Diagnostic:
    """One policy diagnostic, as the engine would print it; `blocking` is Lockstep's fail-closed verdict."""

    policy: str
    level: str
    urn: str
    message: str
    blocking: bool


def servicer(policies: Sequence[Policy], config: Mapping[str, Any]) -> _PolicyAnalyzerServicer:
    """Return pulumi-policy's analyzer for these policies, configured as the engine would configure it.

    Configure() sets every configured policy's level from the request (the proto default is ADVISORY), so each
    policy's own level is sent explicitly: configuration must never weaken a mandatory rule.
    """
    svc = _PolicyAnalyzerServicer("lockstep", PACK_VERSION, list(policies), EnforcementLevel.MANDATORY)
    configure(svc, policies, config)
    return svc


def configure(svc: _PolicyAnalyzerServicer, policies: Sequence[Policy], config: Mapping[str, Any]) -> None:
    """Send the policy config (to the policies that declare a schema), keeping every policy's own level."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in policies:
        props = struct_pb2.Struct()
        props.update(dict(config) if policy.config_schema else {})
        level = policy.enforcement_level or EnforcementLevel.MANDATORY
        request.policyConfig[policy.name].CopyFrom(
            analyzer_pb2.PolicyConfig(enforcementLevel=_LEVELS[level], properties=props))
    svc.Configure(request, None)  # type: ignore[no-untyped-call]


def _options(reg: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    o = reg.options
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(o.get("protect")), ignoreChanges=o.get("ignoreChanges", []),
        deleteBeforeReplace=bool(o.get("deleteBeforeReplace")),
        additionalSecretOutputs=o.get("additionalSecretOutputs", []), parent=reg.parent)


def _properties(reg: Registration, outputs: Mapping[str, Any] | None) -> struct_pb2.Struct:
    if reg.custom or outputs is None or reg.urn not in outputs:
        return reg.object
    props = struct_pb2.Struct()
    json_format.ParseDict(outputs[reg.urn], props)
    return props


def _provider(reg: Registration, providers: Mapping[str, Registration]) -> analyzer_pb2.AnalyzerProviderResource:
    """Return the resource's provider as the engine sends it (its type, name, URN and inputs), or an empty one."""
    found = providers.get(reg.provider.rpartition("::")[0]) if reg.provider else None
    if found is None:
        return analyzer_pb2.AnalyzerProviderResource()
    return analyzer_pb2.AnalyzerProviderResource(type=found.type, name=found.name, urn=found.urn,
                                                 properties=found.object)


def stack_request(regs: Iterable[Registration], outputs: Mapping[str, Any] | None = None,
                  project: Mapping[str, tuple[str, ...]] | None = None) -> analyzer_pb2.AnalyzeStackRequest:
    """Return the AnalyzeStackRequest for these registrations; `project` keeps only those top-level properties."""
    request = analyzer_pb2.AnalyzeStackRequest()
    regs = list(regs)
    providers = {r.urn: r for r in regs if r.type.startswith("pulumi:providers:")}
    for reg in regs:
        props = _properties(reg, outputs)
        if project is not None:
            kept = struct_pb2.Struct()
            for keep in project.get(reg.type.split(":", 1)[0] + ":", ()):
                if keep in props.fields:
                    kept.fields[keep].CopyFrom(props.fields[keep])
            props = kept if reg.custom else props
        resource = request.resources.add(type=reg.type, name=reg.name, urn=reg.urn, parent=reg.parent,
                                         properties=props, options=_options(reg), dependencies=reg.dependencies)
        if reg.provider and project is None:
            resource.provider.CopyFrom(_provider(reg, providers))
        for key, urns in reg.property_dependencies.items():
            resource.propertyDependencies[key].urns.extend(urns)
    return request


def analyze_resources(svc: _PolicyAnalyzerServicer, regs: Iterable[Registration]) -> list[Diagnostic]:
    """Run the resource rules on each registration (the engine's per-step Analyze call)."""
    out: list[Diagnostic] = []
    for reg in regs:
        request = analyzer_pb2.AnalyzeRequest(type=reg.type, name=reg.name, urn=reg.urn, properties=reg.object,
                                              options=_options(reg))
        out.extend(_diagnostics(svc.Analyze(request, None), reg.urn))  # type: ignore[no-untyped-call]
    return out


def analyze_stack(svc: _PolicyAnalyzerServicer, request: analyzer_pb2.AnalyzeStackRequest) -> list[Diagnostic]:
    """Run the stack rules over a whole AnalyzeStackRequest."""
    return _diagnostics(svc.AnalyzeStack(request, None), "")  # type: ignore[no-untyped-call]


def _diagnostics(response: Any, urn: str) -> list[Diagnostic]:
    out = []
    for d in response.diagnostics:
        level = _NAMES.get(d.enforcementLevel, "advisory")
        # Fail closed: pulumi-policy turns a mandatory rule that met an unknown value into an advisory note.
        blocking = level in ("mandatory", "remediate") or d.message.startswith(CANT_RUN)
        out.append(Diagnostic(d.policyName, level, d.urn or urn, d.message, blocking))
    return out
