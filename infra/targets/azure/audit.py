"""Say who changed a workflow's Azure resource: the Activity Log (azure-mgmt-monitor), one query per incident.

The query selects the resource group's administrative events in the window before the incident was first seen;
the newest successful write or delete of the drifted resource (the function app, its `config/appsettings`, the
plan or the action group) names the caller, which ARM takes from the token: a user's UPN, or a service
principal's application id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import AzureError

from infra.model import StackConfig
from infra.targets.azure.live import _Clients
from infra.targets.azure.translate import names
from infra.targets.changes import Asked, Change, iso, window
from infra.targets.liveread import LiveRead, Unreadable

SOURCE = "Azure Activity Log"
PAGES = 5  # at most this many pages of one resource group's events per lookup
PLAN_FIELDS = ("plan", "sku")
GROUP_FIELDS = ("email_receivers",)


def changed_by(stack: StackConfig, asked: Asked, connect: Mapping[str, Any], client: Any = None) -> Change:
    """Return who last changed the drifted resource before the incident was first seen, per the Activity Log."""
    rg, resource = _resource(stack, asked)
    start, end = window(asked.first_seen)
    try:
        logs = client or _Clients(connect, LiveRead("azure")).monitor.activity_logs
        query = logs.list(filter=f"eventTimestamp ge '{iso(start)}' and eventTimestamp le '{iso(end)}' and "
                                 f"resourceGroupName eq '{rg}'",
                          select="caller,eventTimestamp,operationName,resourceId,status")
        events = [e for number, page in enumerate(query.by_page()) if number < PAGES for e in page]
    except (AzureError, Unreadable) as exc:
        return Change(source=SOURCE, reason=f"the query failed: {exc}")
    writes = [e for e in events if _changes(e, resource)]
    if not writes:
        return Change(source=SOURCE, reason=f"no write to {resource.rsplit('/', 1)[-1]} in the 90 days before "
                                            f"{asked.first_seen}")
    last = max(writes, key=lambda e: e.event_timestamp)
    return Change(str(last.caller or ""), iso(last.event_timestamp), str(last.operation_name.value), SOURCE)


def _resource(stack: StackConfig, asked: Asked) -> tuple[str, str]:
    """Return the resource group and the path (under the provider) of the resource that holds the field."""
    n = names(stack, asked.workflow, asked.desired.location, asked.live)
    if asked.attribute in PLAN_FIELDS:
        return n.plan_group, "/providers/microsoft.web/serverfarms/" + n.plan
    if asked.attribute in GROUP_FIELDS:
        return n.group, "/providers/microsoft.insights/actiongroups/" + n.alerts
    return n.group, "/providers/microsoft.web/sites/" + n.app


def _changes(event: Any, resource: str) -> bool:
    """Return whether an event is a successful write or delete of the resource or one of its children."""
    rid = str(event.resource_id or "").lower()
    op = str(event.operation_name.value if event.operation_name else "").lower()
    ok = str(event.status.value if event.status else "").lower() in ("succeeded", "accepted", "started")
    inside = rid.endswith(resource.lower()) or f"{resource.lower()}/" in rid
    return ok and inside and op.endswith(("/write", "/delete"))
