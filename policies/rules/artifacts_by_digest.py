"""Function code is addressed by its content digest, never by a mutable name or tag."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, Severity

from policies.lib import SHA256_RE, SOC2_CHANGE, Report, fail_closed, say, target_of, workflow_of


def _path(value: Any) -> str:
    """Return the path or URI of an asset/archive input (pulumi-policy gives objects or dicts)."""
    if isinstance(value, dict):
        return str(value.get("path") or value.get("uri") or "")
    return str(getattr(value, "path", None) or getattr(value, "uri", None) or value or "")


def _reference(args: Any) -> str | None:
    """Return the artifact reference of a code-carrying resource, or None for other types."""
    p, t = args.props, args.resource_type
    if t == "aws:lambda/function:Function":
        return str(p.get("imageUri") or p.get("s3Key") or _path(p.get("code")))
    if t == "azure-native:storage:Blob":
        return str(p.get("blobName") or "")
    if t == "azure-native:web:WebApp":
        pairs = (p.get("siteConfig") or {}).get("appSettings") or []
        return next((str(x.get("value")) for x in pairs if x.get("name") == "WEBSITE_RUN_FROM_PACKAGE"), None)
    if t == "gcp:storage/bucketObject:BucketObject":
        return str(p.get("name") or "")
    if t == "gcp:cloudfunctionsv2/function:Function":
        source = ((p.get("buildConfig") or {}).get("source") or {}).get("storageSource") or {}
        return str(source.get("object") or "")
    if t.endswith("lockstep-onprem:Workflow"):
        return str((p.get("bundle") or {}).get("digest") or "")
    return None


@fail_closed
def validate(args: Any, report: Report) -> None:
    """Report code artifacts whose reference carries no sha256 digest (and a Lambda without source_code_hash)."""
    reference = _reference(args)
    if reference is None:
        return
    target = target_of(args.resource_type) or "?"
    workflow = workflow_of(args)
    if not SHA256_RE.search(reference) and "@sha256:" not in reference:
        report(say(target, workflow, "function", f"{args.name} deploys {reference!r}, which is not addressed by a "
                   "sha256 content digest — publish the package under its digest (infra.bundle)"))
    if args.resource_type == "aws:lambda/function:Function" and not args.props.get("sourceCodeHash"):
        report(say(target, workflow, "function", f"{args.name} has no source_code_hash — set it to the package's "
                   "sha256 so a changed package is always redeployed"))


POLICY = ResourceValidationPolicy(
    name="artifacts-by-digest",
    description="Function packages are addressed by their sha256 content digest.",
    validate=validate,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["per-target", "supply-chain", "lockstep"],
    remediation_steps="Build packages with infra.bundle and reference them by their digest-named object.",
)
