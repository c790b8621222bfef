"""Say who changed a workflow's AWS resource: CloudTrail's LookupEvents, one call per incident.

LookupEvents takes one lookup attribute: the resource name: the schedule's for a schedule field, the alert
topic's for notifications, the function's otherwise, by the names the component gives them (`translate.names`: an
adopted schedule or function keeps its live name). Of the events before the incident was first seen, the
newest write whose operation changes the drifted field names the principal (the caller's ARN from the event's
`userIdentity`). CloudTrail delivers events minutes late, so a change made just before the run may not be there
yet; the incident then says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.model import StackConfig
from infra.targets.aws.live import RETRIES
from infra.targets.aws.translate import names
from infra.targets.changes import Asked, Change, iso, window

SOURCE = "CloudTrail"
SCHEDULE_EVENTS = ("UpdateSchedule", "CreateSchedule", "DeleteSchedule")
FUNCTION_EVENTS = ("UpdateFunctionConfiguration", "CreateFunction", "DeleteFunction")
# The operations that change each field (CloudTrail's Lambda event names carry an API-version suffix).
SCHEDULE_FIELDS = ("schedule_expression", "schedule_timezone", "start_date", "end_date", "scheduler_retries",
                   "scheduler_max_event_age_s")
EVENTS: Mapping[str, tuple[str, ...]] = {
    **{f: SCHEDULE_EVENTS for f in SCHEDULE_FIELDS},
    **{f: FUNCTION_EVENTS for f in ("timeout_s", "memory_mb", "env", "secrets", "runtime", "entry", "stamps")},
    "code_digest": ("UpdateFunctionCode", "CreateFunction"),
    "reserved_concurrency": ("PutFunctionConcurrency", "DeleteFunctionConcurrency"),
    **{f: ("PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig", "DeleteFunctionEventInvokeConfig")
       for f in ("lambda_retries", "lambda_max_event_age_s")},
    "email_subscriptions": ("Subscribe", "Unsubscribe"),
    "webhook_secrets": ("TagResource", "UntagResource"),
}
TOPIC_FIELDS = ("email_subscriptions", "webhook_secrets")


def changed_by(stack: StackConfig, asked: Asked, connect: Mapping[str, Any], client: Any = None) -> Change:
    """Return who last changed the drifted field before the incident was first seen, per CloudTrail."""
    n = names(stack.name, asked.workflow, asked.live)
    name = n.topic if asked.attribute in TOPIC_FIELDS else n.schedule if asked.attribute in SCHEDULE_FIELDS \
        else n.function
    start, end = window(asked.first_seen)
    trail = client or boto3.client("cloudtrail", region_name=asked.desired.region, config=RETRIES,
                                   **{k: v for k, v in connect.items() if k not in ("regions", "reads")})
    try:
        answer = trail.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}],
                                     StartTime=start, EndTime=end, MaxResults=50)
    except (ClientError, BotoCoreError) as exc:
        return Change(source=SOURCE, reason=f"LookupEvents failed: {_why(exc)}")
    wanted = EVENTS.get(asked.attribute, ())
    for event in sorted(answer.get("Events", []), key=lambda e: e["EventTime"], reverse=True):
        if event.get("ReadOnly") == "true" or (wanted and not str(event.get("EventName", "")).startswith(wanted)):
            continue
        return Change(_principal(event), iso(event["EventTime"]), str(event.get("EventName", "")), SOURCE)
    return Change(source=SOURCE, reason=f"no write to {name} that changes {asked.attribute} in the 90 days before "
                                        f"{asked.first_seen} (events arrive up to 15 minutes late)")


def _principal(event: Mapping[str, Any]) -> str:
    """Return the caller's ARN from the recorded event, else the user name CloudTrail summarises."""
    try:
        identity = json.loads(str(event.get("CloudTrailEvent") or "{}")).get("userIdentity", {})
    except ValueError:
        identity = {}
    return str(identity.get("arn") or event.get("Username") or identity.get("principalId") or "")


def _why(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '')}: {error.get('Message', '')}".strip()
    return str(exc)
