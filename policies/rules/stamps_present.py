"""Every deployed resource that can carry tags or labels carries the five Lockstep stamps, well-formed."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from infra.targets.registry import TARGETS
from policies.lib import DIGEST_RE, SOC2_CHANGE, STAMP_KEYS, Report, fail_closed, say, stamps_of, target_of

# Types that take no tags/labels in their provider schema, from each target's facts (tests/test_policy_stamps_sdk.py
# checks them against the installed SDKs); they are identified through their parent component instead.
UNTAGGABLE = frozenset().union(*(t.resources.untaggable for t in TARGETS.values()))


def _settings(props: Any) -> dict[str, str]:
    pairs = (props.get("siteConfig") or {}).get("appSettings") or []
    return {p.get("name", ""): p.get("value", "") for p in pairs}


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report a missing, malformed or wrong-target stamp on a taggable resource."""
    target = target_of(args.resource_type)
    if target is None or args.resource_type in UNTAGGABLE:
        return
    found = dict(stamps_of(args.resource_type, args.props) or {})
    workflow = found.get("lockstep-workflow", "?")
    missing = [k for k in STAMP_KEYS if not found.get(k)]
    if missing:
        report(say(target, workflow, "stamps", f"{args.name} ({args.resource_type}) lacks {', '.join(missing)} "
                   "— build it through the workflow's component, which stamps every resource"))
        return
    if not DIGEST_RE.match(found["lockstep-digest"]):
        report(say(target, workflow, "digest", f"{args.name}: lockstep-digest {found['lockstep-digest']!r} is "
                   "not 32 lowercase hex characters — stamp the spec digest (infra.stamps)"))
    if found["lockstep-target"] != target:
        report(say(target, workflow, "targets", f"{args.name} is a {target} resource stamped "
                   f"lockstep-target={found['lockstep-target']!r} — stamp the target it is deployed to"))
    if args.resource_type == "azure-native:web:WebApp":
        settings = _settings(args.props)
        for key in STAMP_KEYS:
            env = key.upper().replace("-", "_")
            if settings.get(env) != found[key]:
                report(say(target, workflow, "stamps", f"{args.name}: app setting {env} is "
                           f"{settings.get(env)!r}, not the tag's {found[key]!r} — set LOCKSTEP_* app settings "
                           "from the same stamps"))


POLICY = ResourceValidationPolicy(
    name="stamps-present",
    description="Every taggable resource carries the lockstep workflow, digest, schema, commit and target stamps.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["per-target", "traceability", "lockstep"],
    remediation_steps="Create the resource inside the workflow's component, which applies infra.stamps.stamps().",
)
