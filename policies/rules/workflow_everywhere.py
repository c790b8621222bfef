"""Every declared workflow is on every target it declares, with the same spec digest and schema everywhere."""

from __future__ import annotations

from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationPolicy

from policies.lib import CONFIG_SCHEMA, SOC2_CHANGE, Declared, Report, say, stamped, with_declared

# The preview judges one workflow at a time (config `workflows`), so it caches this rule per workflow too.
SCOPE = "workflow"


def check(args: Any, report: Report, model: Declared) -> None:
    """Report declared targets with nothing deployed, and resources whose digest or schema is not the spec's."""
    seen: set[tuple[str, str]] = set()
    for resource, st in stamped(args.resources):
        name, target = st.get("lockstep-workflow", ""), st.get("lockstep-target", "")
        wf = model.workflows.get(name)
        if wf is None:
            continue  # an orphan: no-orphans reports it
        seen.add((name, target))
        if st.get("lockstep-digest") != wf.digest:
            report(say(target, name, "digest", f"{resource.name} is stamped with spec digest "
                       f"{st.get('lockstep-digest')!r}, but the workflow's spec digest is {wf.digest!r} — deploy "
                       "every target from the same commit"), resource.urn)
        if st.get("lockstep-schema") != str(wf.schema):
            report(say(target, name, "schema", f"{resource.name} is stamped with schema "
                       f"{st.get('lockstep-schema')!r}, but the workflow declares schema {wf.schema} — redeploy "
                       "it with the current program"), resource.urn)
    for wf in model.judged():
        for target in model.expected_targets(wf):
            if (wf.name, target) not in seen:
                report(say(target, wf.name, "targets", f"the workflow declares {target} but nothing is deployed "
                           f"there in stack {model.stack.name!r} — fix what {target} cannot honour (see the other "
                           f"violations), or drop {target} from its targets"))


POLICY = StackValidationPolicy(
    name="workflow-on-every-target",
    description="Every workflow is deployed to every target it declares, with one spec digest and schema.",
    validate=with_declared(check),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CONFIG_SCHEMA,
    severity=Severity.HIGH,
    framework=SOC2_CHANGE,
    tags=["cross-target", "lockstep"],
    remediation_steps="Deploy every declared target from the same commit, or remove the target from the workflow.",
)
