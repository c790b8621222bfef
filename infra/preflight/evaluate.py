"""Evaluate one workflow's slice of a stack: capture it, then run the rules that judge it on its own.

A slice holds everything later stages need and nothing they do not: plan summaries, a stamps-only
AnalyzeStackRequest with one resource per (target, workflow) for the stack-wide rule (serialized; requests
concatenate as protobuf bytes), and the diagnostics of the resource rules and the per-workflow stack rules (run with
policy config `workflows: [name]`). That is what the cache stores per workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pulumi.runtime import rpc
from pulumi_policy import Policy

from infra.preflight import analyze
from infra.preflight.capture import Capture, capture
from infra.preflight.plan import Resource, summarize
from infra.preflight.sdkfix import reset_pickler
from infra.targets.registry import TARGETS

# What the stack-wide rules read of a custom resource: its stamps, nothing else (components keep their outputs).
# Keys are a type token's package ("aws:"), as analyze.stack_request looks them up.
PROJECTION = {t.resources.type_prefix.split(":", 1)[0] + ":": (t.resources.stamp_field,
                                                               *t.resources.stamp_field_overrides.values())
              for t in TARGETS.values()}


@dataclass(frozen=True)
class Slice:
    """One evaluated workflow (or the shared part of a stack)."""

    workflow: str
    resources: tuple[Resource, ...]
    projected: bytes
    diagnostics: tuple[analyze.Diagnostic, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """The pack split by how the preview runs it: per resource, per workflow slice, or once over the stack."""

    resource: analyze.Analyzer
    workflow: analyze.Analyzer
    stack: analyze.Analyzer
    workflow_policies: tuple[Policy, ...]
    config: Mapping[str, object]

    @classmethod
    def of(cls, policies: Sequence[Policy], scope: Callable[[Policy], str], config: dict[str, str]) -> Rules:
        """Build one analyzer per scope from the same policy objects the pack serves."""
        def pick(name: str) -> list[Policy]:
            return [p for p in policies if scope(p) == name]
        return cls(analyze.servicer(pick("resource"), config), analyze.servicer(pick("workflow"), config),
                   analyze.servicer(pick("stack"), config), tuple(pick("workflow")), dict(config))

    def judge_only(self, workflow: str) -> analyze.Analyzer:
        """Return the per-workflow analyzer, configured to judge this one declared workflow."""
        analyze.configure(self.workflow, self.workflow_policies, {**self.config, "workflows": [workflow]})
        return self.workflow


def run_capture(program: Callable[[], None], stack: str) -> Capture:
    """Capture one program run under mocks, in preview mode, as the lockstep project."""
    reset_pickler()
    return capture(program, project="lockstep", stack=stack, preview=True)


def evaluate(name: str, cap: Capture, rules: Rules, root: Path, notes: Sequence[str] = ()) -> Slice:
    """Run the resource rules and the per-workflow rules on a captured slice and summarize it.

    The registrations are taken in URN order: the program registers asynchronously, so the order it happens to
    register in differs between processes, and the reports (and a cached slice) must not.
    """
    regs = sorted(cap.registrations, key=lambda r: r.urn)
    diags = analyze.analyze_resources(rules.resource, regs)
    diags += analyze.analyze_stack(rules.judge_only(name), analyze.stack_request(regs, cap.outputs))
    summaries = tuple(summarize(r, root, name) for r in regs)
    # The stack-wide rules read which (target, workflow) pairs exist: one stamped resource per pair carries that.
    first: dict[tuple[str, str], str] = {}
    for s in summaries:
        if s.custom and s.stamped:
            first.setdefault((s.target, s.workflow), s.urn)
    chosen = set(first.values())
    projected = analyze.stack_request([r for r in regs if r.urn in chosen], project=PROJECTION).SerializeToString()
    return Slice(name, summaries, projected, tuple(diags), tuple(notes))


def stack_wide(rules: Rules, slices: Sequence[Slice], contenders: set[str] | None = None) -> list[analyze.Diagnostic]:
    """Run the stack-wide rules once over the slices' stamps (merged protobuf bytes, deduplicated by URN).

    With `contenders` (the workflows the rules can report on, `policies.pack.stack_contenders`), only the slices
    stamped with one of them are fed, and any slice holding a value unknown at preview time (the rules fail closed
    on it): the same diagnostics as over every slice, for a fraction of the analyzer's work.
    """
    if contenders is not None:
        slices = [s for s in slices if _contends(s, contenders)]
    merged = analyze.analyzer_pb2.AnalyzeStackRequest.FromString(b"".join(s.projected for s in slices))
    seen: set[str] = set()
    request = analyze.analyzer_pb2.AnalyzeStackRequest()
    for resource in merged.resources:
        if resource.urn not in seen:
            seen.add(resource.urn)
            request.resources.append(resource)
    return analyze.analyze_stack(rules.stack, request)


def _contends(s: Slice, contenders: set[str]) -> bool:
    names = {s.workflow, *(r.workflow for r in s.resources if r.custom and r.stamped)}
    return bool(names & contenders) or _UNKNOWN in s.projected


_UNKNOWN = rpc.UNKNOWN.encode()
