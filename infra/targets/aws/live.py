"""Read what AWS runs for each workflow through boto3, mapped onto the Pulumi properties `normalize` reads.

Per workflow, the calls no list can replace: `get_schedule` (ListSchedules carries no expression, zone or retry
policy), `get_function` (ListFunctions carries neither tags nor reserved concurrency) and
`get_function_event_invoke_config` (there is no account-wide list). The alert topics are listed per region instead
of read one by one (`sns.list_topics`, the tagging API's `get_resources` for their tags, `sns.list_subscriptions`),
from `LIST_FROM` workflows in a region on; below that, `list_tags_for_resource` and `list_subscriptions_by_topic`
per topic. Plus one paginated `list_schedule_groups` per region to find stamped groups no workflow claims. The
default credential chain applies; `connect` carries endpoint overrides (`endpoint_url`, keys) for an emulator.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra import naming
from infra.model import StackConfig
from infra.targets.aws.normalize import FUNCTION, INVOKE_CONFIG, PROVIDER, SCHEDULE, SUBSCRIPTION, TOPIC
from infra.targets.aws.translate import AwsDesired
from infra.targets.aws.translate import names as physical_names
from infra.targets.base import Observed
from infra.targets.common import iso_utc
from infra.targets.discovered import Discovered, Discovery, code_of
from infra.targets.liveread import (
    Counter,
    LiveRead,
    NotDeployed,
    Unmanaged,
    Wanted,
    read_each,
    unreadable_all,
    use_lists,
)

NOT_FOUND = ("ResourceNotFoundException", "NotFound", "NotFoundException")
# botocore's standard retry mode backs off exponentially on throttling and transient errors, bounded here.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20)


class _Clients:
    """boto3 clients per (service, region), each counting the API calls it makes."""

    def __init__(self, connect: Mapping[str, Any], out: LiveRead) -> None:
        # "regions" lists where discovery looks (not a client argument)
        self._connect = {k: v for k, v in connect.items() if k not in ("regions", "reads")}
        self._count = Counter(out)
        self._made: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:  # readers run in threads; a boto3 client is thread-safe once made
            if key not in self._made:
                client = boto3.client(service, region_name=region, config=RETRIES, **self._connect)
                client.meta.events.register("before-call", self._counted)
                self._made[key] = client
            return self._made[key]

    def _counted(self, **_kw: Any) -> None:
        self._count.add()


def read_live(stack: StackConfig, wanted: Mapping[str, Wanted], connect: Mapping[str, Any]) -> LiveRead:
    """Return the live AWS resources of every wanted workflow, and stamped schedule groups none of them claims."""
    out = LiveRead("aws")
    clients = _Clients(connect, out)
    topics = _list_topics(out, clients, wanted, connect)
    readable = {n: w for n, w in wanted.items() if n not in out.unreadable}
    read_each(out, readable, lambda w: _workflow(clients, stack, w, topics.get(w.desired.region)), _why)
    out.resources_read -= len(out.resources)  # the provider entry (the region) is no API resource
    regions = sorted({w.desired.region for w in wanted.values()} | ({stack.aws.region} if stack.aws else set()))
    claimed = {physical_names(stack.name, w.workflow, w.live).group for w in wanted.values()}
    for region in regions:
        try:
            out.unmanaged.extend(_unmanaged(clients("scheduler", region), stack, claimed))
        except (ClientError, BotoCoreError) as exc:
            out.error = f"listing schedule groups in {region}: {_why(exc)}"
    return out


@dataclass
class _Topics:
    """One region's SNS topics as lists show them: each topic's tags and subscriptions, by topic ARN."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    subscriptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _list_topics(out: LiveRead, clients: _Clients, wanted: Mapping[str, Wanted],
                 connect: Mapping[str, Any]) -> dict[str, _Topics]:
    """List the topics of each region with enough workflows; a failed list makes that region's reads unreadable."""
    by_region: dict[str, list[str]] = {}
    for name, want in wanted.items():
        by_region.setdefault(want.desired.region, []).append(name)
    listed = {}
    for region, names in sorted(by_region.items()):
        if not use_lists(connect, len(names)):
            continue
        try:
            listed[region] = _topics_of(clients, region)
        except (ClientError, BotoCoreError) as exc:
            unreadable_all(out, names, f"listing SNS topics in {region}: {_why(exc)}")
    return listed


def _topics_of(clients: _Clients, region: str) -> _Topics:
    sns, tagging = clients("sns", region), clients("resourcegroupstaggingapi", region)
    found = _Topics()
    for page in sns.get_paginator("list_topics").paginate():
        found.tags.update({t["TopicArn"]: {} for t in page.get("Topics", [])})
    # The tagging API lists only resources that carry tags; a topic it does not name has none.
    for page in tagging.get_paginator("get_resources").paginate(ResourceTypeFilters=["sns:topic"],
                                                                ResourcesPerPage=100):
        for item in page.get("ResourceTagMappingList", []):
            if item["ResourceARN"] in found.tags:
                found.tags[item["ResourceARN"]] = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
    for page in sns.get_paginator("list_subscriptions").paginate():
        for sub in page.get("Subscriptions", []):
            found.subscriptions.setdefault(str(sub.get("TopicArn")), []).append(sub)
    return found


def _topic(clients: _Clients, region: str, topic_arn: str,
           listed: _Topics | None) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Return a topic's tags and subscriptions, from the region's lists when there are some."""
    if listed is not None:
        if topic_arn not in listed.tags:
            raise NotDeployed(f"SNS topic {topic_arn} does not exist")
        return listed.tags[topic_arn], listed.subscriptions.get(topic_arn, [])
    sns = clients("sns", region)
    tags = _get(lambda: sns.list_tags_for_resource(ResourceArn=topic_arn), f"SNS topic {topic_arn}")
    subs = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
            for s in page.get("Subscriptions", [])]
    return {t["Key"]: t["Value"] for t in tags.get("Tags", [])}, subs


def _workflow(clients: _Clients, stack: StackConfig, want: Wanted, topics: _Topics | None) -> list[Observed]:
    d: AwsDesired = want.desired
    n = physical_names(stack.name, want.workflow, want.live)
    sch, lam = clients("scheduler", d.region), clients("lambda", d.region)
    schedule = _get(lambda: sch.get_schedule(Name=n.schedule, GroupName=n.group), f"schedule {n.group}/{n.schedule}")
    function = _get(lambda: lam.get_function(FunctionName=n.function), f"Lambda function {n.function}")
    try:
        invoke = lam.get_function_event_invoke_config(FunctionName=n.function)
    except ClientError as exc:
        if _code(exc) not in NOT_FOUND:
            raise
        invoke = {}  # deleted by hand: the platform's defaults apply, which normalize reads as such
    account = str(function["Configuration"]["FunctionArn"]).split(":")[4]
    topic_arn = f"arn:aws:sns:{d.region}:{account}:{n.topic}"
    tags, subs = _topic(clients, d.region, topic_arn, topics)
    return [Observed(PROVIDER, "provider", {"region": d.region}),
            Observed(SCHEDULE, f"{n.group}/{n.schedule}", _schedule_props(schedule)),
            Observed(FUNCTION, n.function, _function_props(function, want.package_sha256_b64)),
            Observed(INVOKE_CONFIG, n.function, {"maximumRetryAttempts": invoke.get("MaximumRetryAttempts"),
                                             "maximumEventAgeInSeconds": invoke.get("MaximumEventAgeInSeconds")}),
            Observed(TOPIC, topic_arn, {"tags": tags}),
            *(Observed(SUBSCRIPTION, str(s.get("SubscriptionArn")),
                       {"protocol": s.get("Protocol"), "endpoint": s.get("Endpoint")}) for s in subs)]


def _schedule_props(s: Mapping[str, Any]) -> dict[str, Any]:
    retry = s.get("Target", {}).get("RetryPolicy", {})
    return {"scheduleExpression": s.get("ScheduleExpression"),
            "scheduleExpressionTimezone": s.get("ScheduleExpressionTimezone"),
            "startDate": iso_utc(s.get("StartDate")), "endDate": iso_utc(s.get("EndDate")),
            "state": s.get("State"), "description": s.get("Description"),
            "target": {"retryPolicy": {"maximumRetryAttempts": retry.get("MaximumRetryAttempts"),
                                       "maximumEventAgeInSeconds": retry.get("MaximumEventAgeInSeconds")}},
            "lastModificationDate": iso_utc(s.get("LastModificationDate"))}


def _function_props(f: Mapping[str, Any], package: str | None) -> dict[str, Any]:
    c = f["Configuration"]
    return {"timeout": c.get("Timeout"), "memorySize": c.get("MemorySize"), "runtime": c.get("Runtime"),
            "environment": {"variables": c.get("Environment", {}).get("Variables", {})},
            "reservedConcurrentExecutions": f.get("Concurrency", {}).get("ReservedConcurrentExecutions"),
            "tags": f.get("Tags", {}), "codeSha256": c.get("CodeSha256"), "sourceCodeHash": package,
            "lastModified": c.get("LastModified")}


def _unmanaged(sch: Any, stack: StackConfig, claimed: set[str]) -> list[Unmanaged]:
    prefix = naming.physical("lockstep", stack.name, limit=64)
    found = []
    for page in sch.get_paginator("list_schedule_groups").paginate(NamePrefix=prefix):
        for group in page.get("ScheduleGroups", []):
            if group["Name"] not in claimed:
                tags = {t["Key"]: t["Value"] for t in sch.list_tags_for_resource(ResourceArn=group["Arn"])["Tags"]}
                if "lockstep-workflow" in tags or group["Name"].startswith(prefix + "-"):
                    found.append(Unmanaged("aws", "schedule group", group["Name"], tags.get("lockstep-workflow", "")))
    return found


def _get(call: Any, what: str) -> Any:
    try:
        return call()
    except ClientError as exc:
        if _code(exc) in NOT_FOUND:
            raise NotDeployed(f"{what} does not exist") from exc
        raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _why(exc: BaseException) -> str | None:
    if isinstance(exc, ClientError):
        return f"{_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}".strip()
    if isinstance(exc, BotoCoreError):
        return str(exc)
    return None


def connect_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Return client overrides for an emulator ($LOCKSTEP_AWS_ENDPOINT_URL); empty: the real AWS endpoints."""
    url = env.get("LOCKSTEP_AWS_ENDPOINT_URL")
    regions = [r for r in env.get("LOCKSTEP_IMPORT_AWS_REGIONS", "").replace(",", " ").split() if r]
    return {**({"endpoint_url": url} if url else {}), **({"regions": regions} if regions else {})}


def discover(stack: StackConfig, connect: Mapping[str, Any]) -> Discovery:
    """Return every EventBridge Scheduler schedule in every group of the stack's region and `connect["regions"]`,
    with the Lambda function each invokes."""
    out, read = Discovery("aws"), LiveRead("aws")
    regions = tuple(connect.get("regions", ()))
    clients = _Clients(connect, read)
    for region in sorted(set(regions) | ({stack.aws.region} if stack.aws else set())):
        try:
            out.found.extend(_discover_region(clients, region))
        except (ClientError, BotoCoreError) as exc:
            out.errors.append(f"aws {region}: {_why(exc)}")
    out.calls = read.calls
    return out


def _discover_region(clients: _Clients, region: str) -> list[Discovered]:
    sch, lam = clients("scheduler", region), clients("lambda", region)
    found = []
    for page in sch.get_paginator("list_schedule_groups").paginate():
        for group in page.get("ScheduleGroups", []):
            for spage in sch.get_paginator("list_schedules").paginate(GroupName=group["Name"]):
                for item in spage.get("Schedules", []):
                    s = sch.get_schedule(Name=item["Name"], GroupName=group["Name"])
                    found.append(_discovered(lam, region, group["Name"], s))
    logs = _lambda_log_groups(clients("logs", region)) if any(f.function_id for f in found) else set()
    return [dataclasses.replace(f, children={"logs": f"/aws/lambda/{f.function_id}"})
            if f"/aws/lambda/{f.function_id}" in logs else f for f in found]


def _lambda_log_groups(logs: Any) -> set[str]:
    """Return the Lambda log groups of a region: a function that ever ran has one, which adopt must import."""
    return {g["logGroupName"] for page in logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/aws/lambda/") for g in page.get("logGroups", [])}


def _discovered(lam: Any, region: str, group: str, s: Mapping[str, Any]) -> Discovered:
    arn = str(s.get("Target", {}).get("Arn", ""))
    base = Discovered("aws", region, f"{group}/{s['Name']}", f"{group}/{s['Name']}", str(s.get("ScheduleExpression")),
                      s.get("ScheduleExpressionTimezone") or "UTC", calls=arn)
    if s.get("State") == "DISABLED":
        return dataclasses.replace(base, not_a_workflow="the schedule is disabled")
    if ":lambda:" not in arn or ":function:" not in arn:
        return dataclasses.replace(base, not_a_workflow=f"its target {arn} is not a Lambda function")
    try:
        f = lam.get_function(FunctionName=arn.split(":function:", 1)[1].split(":")[0])
    except ClientError as exc:
        if _code(exc) not in NOT_FOUND:
            raise
        return dataclasses.replace(base, not_a_workflow=f"its target function {arn} does not exist")
    c, tags = f["Configuration"], f.get("Tags", {})
    env = dict(c.get("Environment", {}).get("Variables", {}))
    return dataclasses.replace(
        base, calls=str(c["FunctionName"]), function_id=str(c["FunctionName"]),
        managed=tags.get("lockstep-workflow", ""), code=code_of(env, str(c.get("CodeSha256", "")), "aws"),
        runtime=str(c.get("Runtime", "")), entry=env.get("LOCKSTEP_ENTRY", "") or _entry(str(c.get("Handler", ""))),
        timeout_s=c.get("Timeout"), memory_mb=c.get("MemorySize"),
        env={k: v for k, v in env.items() if not k.startswith("LOCKSTEP_")})


def _entry(handler: str) -> str:
    """Return module.function of a Lambda handler ("main.handler"); Lockstep's shim handler names no user code."""
    return "" if handler.startswith("lockstep_") else handler
