"""What every rule shares: stamps, targets, fail-closed unknowns, message format, compliance metadata, the model.

Messages have one shape, `[target] workflow: field: what is wrong — what to do`, so the real CLI prints something a
reviewer can act on and `lockstep preview` can map a violation back to the workflow's file and line.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_policy import (
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
)
from pulumi_policy.proxy import UnknownValueError

from infra.loader import LoadResult, load_repo
from infra.model import StackConfig, Workflow
from infra.stamps import KEYS
from infra.targets.base import Observed
from infra.targets.registry import TARGETS

STAMP_KEYS = KEYS  # re-exported for the rules: one definition of the five stamp keys

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_COMPONENT = "lockstep:index:Workflow"
DIGEST_RE = re.compile(r"^[0-9a-f]{32}$")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
MESSAGE_RE = re.compile(r"^\[(?P<target>[a-z?]+)\] (?P<workflow>[^:]+): (?P<field>[a-z_.()?]+): ", re.M)

SOC2_CHANGE = PolicyComplianceFramework(
    name="SOC 2", version="2017 TSC (rev. 2022)", reference="CC8.1",
    specification="Changes to infrastructure are authorized, tested and approved before implementation")
SOC2_ACCESS = PolicyComplianceFramework(
    name="SOC 2", version="2017 TSC (rev. 2022)", reference="CC6.1",
    specification="Logical access to information assets is restricted to authorized users and services")
SOC2_MONITOR = PolicyComplianceFramework(
    name="SOC 2", version="2017 TSC (rev. 2022)", reference="CC7.2",
    specification="System components are monitored for anomalies and failures are reported")

CONFIG_SCHEMA = PolicyConfigSchema(properties={
    "repoRoot": {"type": "string", "description": "repository holding workflows/ (default: the pack's parent)"},
    "stack": {"type": "string", "description": "stack name (default: the stack the CLI previews)"},
    "workflows": {"type": "array", "items": {"type": "string"},
                  "description": "judge only these declared workflows (default: all; lockstep preview judges one "
                                 "workflow's resources at a time)"},
})

# pulumi-policy types ReportViolation as (message, urn) with urn Optional but positional; rules call it either way.
Report = Callable[..., None]
Validate = Callable[[Any, Report], None]


def target_of(resource_type: str) -> str | None:
    """Return the Lockstep target a resource type deploys to, or None (providers, components, others)."""
    return next((name for name, t in TARGETS.items() if t.resources.owns(resource_type)), None)


def stamp_field(resource_type: str, target: str) -> str:
    """Return the property holding a resource's stamps (the target's facts say which)."""
    return TARGETS[target].resources.stamp_field_of(resource_type)


def stamps_of(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, str] | None:
    """Return a resource's stamps (only keys starting with 'lockstep-'), or None when it carries none.

    Reading goes through pulumi-policy's unknown-checking proxy, so an unknown stamp raises UnknownValueError.
    """
    target = target_of(resource_type)
    if target is None:
        return None
    holder = props.get(stamp_field(resource_type, target))
    if not isinstance(holder, Mapping):
        return None
    found = {k: holder[k] for k in holder if str(k).startswith("lockstep-")}
    return found or None


def workflow_of(args: Any) -> str:
    """Return the workflow a resource is stamped with, or '?' when it carries no stamp."""
    return (stamps_of(args.resource_type, args.props) or {}).get("lockstep-workflow", "?")


def report_each(args: Any, report: Report, field: str, findings: Iterable[str], advice: str) -> None:
    """Report every finding on a workflow resource as '<resource> <finding> — <advice>'."""
    target = target_of(args.resource_type)
    if target is None:
        return
    for finding in findings:
        report(say(target, workflow_of(args), field, f"{args.name} {finding} — {advice}"))


def say(target: str, workflow: str, field: str, text: str) -> str:
    """Return a violation message in the one shape every rule uses."""
    return f"[{target}] {workflow}: {field}: {text}"


def parse(message: str) -> tuple[str, str, str] | None:
    """Return (target, workflow, field) of a message written by `say`, or None."""
    found = MESSAGE_RE.search(message)
    return (found["target"], found["workflow"], found["field"]) if found else None


def fail_closed(validate: Validate) -> Validate:
    """Wrap a rule so a value unknown at preview time is a (mandatory) violation, not an advisory skip.

    pulumi-policy downgrades UnknownValueError to an advisory "can't run policy" note; a gate that must block
    catches it first and reports it as the rule's own violation.
    """
    @functools.wraps(validate)
    def wrapped(args: Any, report: Report) -> None:
        try:
            validate(args, report)
        except UnknownValueError as exc:
            target = target_of(getattr(args, "resource_type", "")) or "?"
            report(say(target, "?", "(unknown)", f"{exc.message}, so this rule cannot judge it and fails closed "
                       "— make the value known at preview (a literal or a config value), or compute the "
                       "resource from known inputs"), getattr(args, "urn", None))
    return wrapped


TARGET_COMPONENT_RE = re.compile(r"^lockstep:(?P<target>[a-z]+):Workflow$")


def registered(resources: list[PolicyResource]) -> dict[tuple[str, str], list[Observed]]:
    """Group every custom resource (and its provider) by (workflow, target), from its lockstep components.

    A resource belongs to the target component it descends from (`lockstep:<target>:Workflow`), whose parent is the
    workflow's `lockstep:index:Workflow`, named after the workflow: membership comes from the program's structure,
    not from stamps, so a component that forgets or forges a stamp is still judged.
    """
    out: dict[tuple[str, str], list[Observed]] = {}
    for r in resources:
        owner = _owner(r)
        if owner is None:
            continue
        group = out.setdefault(owner, [])
        group.append(Observed(r.resource_type, r.name, r.props))
        p = r.provider
        if p is not None and p.resource_type and not any(o.type == p.resource_type for o in group):
            group.append(Observed(p.resource_type, p.name, p.props))
    return out


def _owner(r: PolicyResource) -> tuple[str, str] | None:
    parent: PolicyResource | None = r.parent
    while parent is not None:
        found = TARGET_COMPONENT_RE.match(parent.resource_type)
        if found and parent.parent is not None and parent.parent.resource_type == WORKFLOW_COMPONENT:
            return parent.parent.name, found["target"]
        parent = parent.parent
    return None


def stamped(resources: list[PolicyResource]) -> Iterator[tuple[PolicyResource, Mapping[str, str]]]:
    """Yield every resource that carries stamps, with its stamps."""
    for r in resources:
        found = stamps_of(r.resource_type, r.props)
        if found:
            yield r, found


@dataclass(frozen=True)
class Declared:
    """The repo's declared workflows and the stack under review: what git says must be deployed."""

    root: Path
    stack: StackConfig
    workflows: Mapping[str, Workflow]
    only: frozenset[str] | None = None

    def judged(self) -> list[Workflow]:
        """Return the declared workflows this run judges: all, or those the `workflows` config names."""
        return [wf for name, wf in self.workflows.items() if self.only is None or name in self.only]

    def expected_targets(self, wf: Workflow) -> tuple[str, ...]:
        """Return the targets a workflow must be deployed to in this stack."""
        return wf.targets_in(self.stack)


_KNOWN: dict[tuple[str, str], Declared] = {}


def provide(result: LoadResult, stack: str) -> Declared:
    """Hand the pack a repo the caller already loaded (the offline engine), so rules need not load it again."""
    result.require_valid()
    found = Declared(result.root, result.stack(stack), {wf.name: wf for wf in result.workflows})
    _KNOWN[(str(result.root), stack)] = found
    return found


def declared(config: Mapping[str, Any]) -> Declared:
    """Return the declared model for the policy config's repoRoot and stack (defaults: this repo, $PULUMI_STACK)."""
    root = Path(str(config.get("repoRoot") or REPO_ROOT)).resolve()
    stack = str(config.get("stack") or os.environ.get("PULUMI_STACK", "")).rsplit("/", 1)[-1]
    if not stack:
        raise LookupError("no stack: set the policy config 'stack' or run under `pulumi preview`")
    known = _KNOWN.get((str(root), stack)) or provide(load_repo(root), stack)
    only = config.get("workflows")
    return known if only is None else dataclasses.replace(known, only=frozenset(str(n) for n in only))


def with_declared(check: Callable[[Any, Report, Declared], None]) -> Validate:
    """Wrap a stack rule that needs the declared model; fail closed when the repo cannot be read."""
    @fail_closed
    @functools.wraps(check)
    def validate(args: Any, report: Report) -> None:
        try:
            model = declared(args.get_config())
        except Exception as exc:  # an unreadable repo must block, never pass silently
            report(say("?", "?", "(repo)", f"cannot read the declared workflows: {exc} — fix the repo or the "
                       "policy config (repoRoot, stack)"))
            return
        check(args, report, model)
    return validate
