"""Say who changed a workflow's GCP resource: Cloud Audit Logs (google-cloud-logging), one query per incident.

The query asks the project's Admin Activity audit log for the newest entry about the drifted resource (the
scheduler job, or the function) before the incident was first seen. The entry's `AuditLog` payload names the
principal (`authenticationInfo.principalEmail`) and the method. Every condition of the filter is checked again on
the answer, so a server that ignores part of the filter cannot name the wrong principal.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

warnings.filterwarnings("ignore", category=FutureWarning, module="google.api_core._python_version_support")

from google.api_core import exceptions as gexc  # noqa: E402
from google.cloud.audit import audit_log_pb2  # noqa: E402
from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client  # noqa: E402

from infra.model import StackConfig  # noqa: E402
from infra.targets.changes import Asked, Change, iso, window  # noqa: E402
from infra.targets.gcp.live import RETRY  # noqa: E402
from infra.targets.gcp.translate import names  # noqa: E402

SOURCE = "Cloud Audit Logs"
ACTIVITY_LOG = "cloudaudit.googleapis.com%2Factivity"
JOB_FIELDS = ("schedule", "time_zone", "retry_count", "min_backoff", "max_backoff", "max_doublings",
              "max_retry_duration", "attempt_deadline")
WRITES = ("Create", "Update", "Delete", "Pause", "Resume", "Patch")
PAGE_SIZE = 50


def changed_by(stack: StackConfig, asked: Asked, connect: Mapping[str, Any], client: Any = None) -> Change:
    """Return who last changed the drifted resource before the incident was first seen, per Cloud Audit Logs."""
    d = asked.desired
    n = names(stack.name, asked.workflow, asked.live)
    kind, name = ("jobs", n.job) if asked.attribute in JOB_FIELDS else ("functions", n.function)
    resource = f"projects/{d.project}/locations/{d.region}/{kind}/{name}"
    log = f"projects/{d.project}/logs/{ACTIVITY_LOG}"
    start, end = window(asked.first_seen)
    logging = client or LoggingServiceV2Client(**{k: v for k, v in connect.items() if k not in ("transport",
                                                                                              "reads")})
    try:
        pager = logging.list_log_entries(request={
            "resource_names": [f"projects/{d.project}"], "order_by": "timestamp desc", "page_size": PAGE_SIZE,
            "filter": f'logName="{log}" AND protoPayload.resourceName="{resource}" AND '
                      f'timestamp>="{iso(start)}" AND timestamp<="{iso(end)}"'}, retry=RETRY, timeout=20.0)
        entries = list(next(iter(pager.pages)).entries)  # one page: the newest entries come first
    except (gexc.GoogleAPIError, StopIteration) as exc:
        return Change(source=SOURCE, reason=f"the query failed: {type(exc).__name__}: {exc}")
    found = [c for c in (_change(e, log, resource, start, end) for e in entries) if c is not None]
    if not found:
        return Change(source=SOURCE, reason=f"no write to {resource} in the 90 days before {asked.first_seen}")
    return max(found, key=lambda c: c.at)


def _change(entry: Any, log: str, resource: str, start: dt.datetime, end: dt.datetime) -> Change | None:
    """Return the change an audit entry records, or None when it is not a write of the resource in the window."""
    at = entry.timestamp
    if entry.log_name != log or not entry.proto_payload.type_url.endswith("google.cloud.audit.AuditLog") or \
            at is None or not start <= at <= end:
        return None
    audit = audit_log_pb2.AuditLog()
    entry.proto_payload.Unpack(audit)
    method = audit.method_name.rsplit(".", 1)[-1]
    if audit.resource_name != resource or not method.startswith(WRITES):
        return None
    return Change(audit.authentication_info.principal_email, iso(at), audit.method_name, SOURCE)
