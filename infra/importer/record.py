"""Which children of an adopted workflow exist live, with the import ID each provider documents for them.

AWS (pulumi_aws `## Import`): the schedule by `group_name/name`, the Lambda function by its name, its log group
(`/aws/lambda/<function>`, when the function has run) by its name, and the schedule group by its name when it
holds this schedule alone (a shared group stays unmanaged: the workflow's deletion
would take its other schedules with it). GCP (pulumi_gcp `## Import`): the job by
`projects/{project}/locations/{region}/jobs/{name}` and the function by
`projects/{project}/locations/{location}/functions/{name}`, the full names Cloud Scheduler and Functions report.
The execution and scheduler roles are not imported: hand-made estates share them between functions, and
Lockstep gives each workflow its own least-privilege roles instead.

Azure (pulumi-azure-native `## Import`: every child by its ARM resource ID,
`/subscriptions/{sub}/resourceGroups/{group}/providers/{namespace}/{type}/{name}`): the function app
(`Microsoft.Web/sites`) always, since it is the workflow; its App Service plan (`Microsoft.Web/serverfarms`), its
host storage account (`Microsoft.Storage/storageAccounts`, named by `AzureWebJobsStorage`) and its Application
Insights component (`Microsoft.Insights/components`, found by the instrumentation key of its settings) each only
when discover saw no other site of the subscription use it: a shared plan, account or component stays unmanaged,
as a shared AWS schedule group does, since the workflow's deletion would delete it under the other apps. Each keeps
its live name and resource group (a new one would replace it). The resource group is never imported: discover sees
only these resources, a group holds anything, and deleting the workflow would delete the group with all it holds;
the workflow's new children go into the app's live group beside it. Not imported either: the Log Analytics
workspace (one usually serves many components), role assignments and alert rules, which Lockstep makes per
workflow, and the `packages` container and blob, which are Lockstep's own.

On-prem: a crontab line is recorded by its host and the sha256 of its text (the line may hold a credential), never
the line itself; the on-prem resource's create swaps it for Lockstep's block in one `crontab -` install, and refuses,
changing nothing, if the line changed since. systemd timers are not adopted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from infra.errors import LockstepError
from infra.importer.discover import Item
from infra.imports import LiveChild

DEFAULT_GROUP = "default"
AZURE_SHARED = ("plan", "storage", "insights")  # imported only when the app alone uses them


def live_children(item: Item, items: Sequence[Item]) -> Mapping[str, LiveChild]:
    """Return the item's children that exist live, by role (raise LockstepError where none can be imported)."""
    f = item.found
    if f.target == "aws":
        return _aws(item, items)
    if f.target == "gcp":
        job = {"schedule": f.expression, "timeZone": f.timezone}
        function = {"buildConfig.runtime": f.runtime, "serviceConfig.timeoutSeconds": f.timeout_s}
        return {"job": _child(f.live_id, job, name=f.live_id.rsplit("/", 1)[-1]),
                "function": _child(f.function_id, function, name=f.function_id.rsplit("/", 1)[-1])}
    if f.target == "azure":
        return _azure(item, items)
    if f.dialect == "systemd":
        raise LockstepError(f"import adopt: {item.key} is a systemd timer; Lockstep adopts crontab lines only (its "
                            "create swaps the line for its own block in one crontab install): declare the workflow "
                            "by hand, and disable the timer when Lockstep's deploy has run")
    return {"host": _child(f.live_id, {}, host=f.place, line=f.children["line"])}


def _aws(item: Item, items: Sequence[Item]) -> Mapping[str, LiveChild]:
    f = item.found
    group, name = f.live_id.split("/", 1)
    schedule = {"scheduleExpression": f.expression, "scheduleExpressionTimezone": f.timezone}
    function = {"runtime": f.runtime, "memorySize": f.memory_mb, "timeout": f.timeout_s}
    out = {"schedule": _child(f.live_id, schedule, name=name, group=group),
           "function": _child(f.function_id, function, name=f.function_id)}
    peers = [i for i in items if i.found.target == "aws" and i.found.place == f.place
             and i.found.live_id.split("/", 1)[0] == group]
    if group != DEFAULT_GROUP and len(peers) == 1:
        out["schedules"] = _child(group, {}, name=group)
    if f.children.get("logs"):  # the function has run: its log group exists and would clash with a create
        out["logs"] = _child(f.children["logs"], {}, name=f.children["logs"])
    return out


def _azure(item: Item, items: Sequence[Item]) -> Mapping[str, LiveChild]:
    f = item.found
    out = {"function": _arm(f.live_id, f.observed.get("function", {}))}
    for role in AZURE_SHARED:
        id_ = f.children.get(role, "")
        users = [i for i in items if i.found.target == "azure"
                 and i.found.children.get(role, "").lower() == id_.lower()]
        if id_ and len(users) == 1:
            out[role] = _arm(id_, f.observed.get(role, {}))
    return out


def _arm(id_: str, live: Mapping[str, object]) -> LiveChild:
    """Return a live Azure child: its ARM ID, and the name and resource group in it."""
    group = re.search(r"/resourcegroups/([^/]+)", id_, re.IGNORECASE)
    return _child(id_, live, name=id_.rstrip("/").rsplit("/", 1)[-1], group=group.group(1) if group else "")


def _child(id_: str, live: Mapping[str, object], **names: str) -> LiveChild:
    """Return a live child; the live values adopt read are kept where the platform reported them."""
    return LiveChild(id_, MappingProxyType(names), MappingProxyType({k: v for k, v in live.items()
                                                                     if v not in (None, "")}))
