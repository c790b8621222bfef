"""What AWS documents about the services Lockstep uses: limits and reserved names, each with its source.

Sources:
  [A2] EventBridge Scheduler API, RetryPolicy (botocore scheduler/2021-06-30;
       docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html)
  [A4] EventBridge Scheduler User Guide, "Schedule types" (daylight saving time)
  [A8] Lambda API, CreateFunction Timeout and PutFunctionEventInvokeConfig (botocore lambda/2015-03-31)
SDK-free: the policy pack and `lockstep validate` read these without loading a provider.
"""

from __future__ import annotations

from infra.targets.base import ResourceFacts

LAMBDA_MAX_RETRIES = 2             # Lambda asynchronous invocation MaximumRetryAttempts 0-2 [A8]
LAMBDA_MIN_EVENT_AGE_S = 60        # Lambda asynchronous invocation MaximumEventAgeInSeconds 60-21600 [A8]
LAMBDA_MAX_EVENT_AGE_S = 21600
LAMBDA_MAX_TIMEOUT_S = 900         # Lambda Timeout: "the maximum allowed value is 900 seconds" [A8]
SCHEDULER_MAX_RETRIES = 185        # EventBridge Scheduler RetryPolicy MaximumRetryAttempts 0-185 [A2]
SCHEDULER_MIN_EVENT_AGE_S = 60     # EventBridge Scheduler RetryPolicy MaximumEventAgeInSeconds 60-86400 [A2]
SCHEDULER_MAX_EVENT_AGE_S = 86400
# Environment names Lambda sets or reserves, and the prefix Lockstep keeps for its own variables.
RESERVED_ENV = ("AWS_", "LAMBDA_", "_HANDLER", "TZ", "LOCKSTEP_")
DST_GAP = "EventBridge Scheduler skips a wall time inside a DST gap; the canonical schedule fires it shifted forward"
# What the services apply when a setting is absent: a normalizer reads an absent setting as its default.
LAMBDA_DEFAULT_TIMEOUT_S = 3        # [A8]
LAMBDA_DEFAULT_MEMORY_MB = 128      # [A8]
LAMBDA_DEFAULT_RETRIES = 2          # [A8]
LAMBDA_DEFAULT_EVENT_AGE_S = 21600  # [A8]
SCHEDULER_DEFAULT_RETRIES = 185     # [A2]
SCHEDULER_DEFAULT_EVENT_AGE_S = 86400  # [A2]

# Types whose provider schema takes no tags (tests/test_policy_stamps_sdk.py checks this against the installed SDK).
RESOURCES = ResourceFacts("aws:", "tags", untaggable=frozenset({
    "aws:iam/rolePolicy:RolePolicy", "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:scheduler/schedule:Schedule", "aws:sns/topicSubscription:TopicSubscription",
    "aws:lambda/permission:Permission"}), notify_type="aws:sns/topic:Topic")

# The children a workflow adopts from live resources, and the live names each keeps (a new name would replace it).
# Import IDs as the provider documents them (pulumi_aws `## Import`): a schedule by `group_name/name`, a schedule
# group by its name, a Lambda function by its function name, a log group by its name.
IMPORTABLE: dict[str, tuple[str, ...]] = {"schedule": ("name", "group"), "schedules": ("name",),
                                          "function": ("name",), "logs": ("name",)}
