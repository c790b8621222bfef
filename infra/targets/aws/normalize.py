"""Registered inputs (or a live reader's resources) of one workflow on AWS -> the AwsDesired they realise."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from infra.stamps import CODE_ENV, ENTRY_ENV, SECRETS_ENV
from infra.targets.aws import facts
from infra.targets.aws.translate import AwsDesired
from infra.targets.base import NormalizeError, Observed
from infra.targets.observed import every, get, integer, json_map, one, split_env, stamps, strings, text

PROVIDER = "pulumi:providers:aws"
SCHEDULE = "aws:scheduler/schedule:Schedule"
FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
WEBHOOK_TAG = "lockstep-webhook-secrets"
# Which live resource each AwsDesired attribute is read from, so drift can name the resource that differs.
_ON_SCHEDULE = ("schedule_expression", "schedule_timezone", "start_date", "end_date", "scheduler_retries",
                "scheduler_max_event_age_s")
_ON_INVOKE_CONFIG = ("lambda_retries", "lambda_max_event_age_s")
_ON_TOPIC = ("email_subscriptions", "webhook_secrets")
SOURCES: Mapping[str, str] = MappingProxyType({
    f.name: SCHEDULE if f.name in _ON_SCHEDULE else INVOKE_CONFIG if f.name in _ON_INVOKE_CONFIG
    else TOPIC if f.name in _ON_TOPIC else FUNCTION for f in dataclasses.fields(AwsDesired) if f.name != "region"})


def normalize(observed: Sequence[Observed]) -> AwsDesired:
    """Return the desired state the observed AWS resources of one workflow realise."""
    schedule, function = one(observed, SCHEDULE), one(observed, FUNCTION)
    invoke, topic = one(observed, INVOKE_CONFIG), one(observed, TOPIC)
    provider = one(observed, PROVIDER)
    assert schedule and function and invoke and topic and provider
    s, f = schedule.props, function.props
    user, own = split_env(strings(get(f, "environment", "variables")))
    region = text(get(provider.props, "region"))
    if not region:
        raise NormalizeError("the AWS provider has no region")
    return AwsDesired(
        region=region,
        schedule_expression=str(get(s, "scheduleExpression", default="")),
        schedule_timezone=text(get(s, "scheduleExpressionTimezone")),
        start_date=text(get(s, "startDate")), end_date=text(get(s, "endDate")),
        scheduler_retries=_int(get(s, "target", "retryPolicy", "maximumRetryAttempts"),
                               facts.SCHEDULER_DEFAULT_RETRIES),
        lambda_retries=_int(get(invoke.props, "maximumRetryAttempts"), facts.LAMBDA_DEFAULT_RETRIES),
        scheduler_max_event_age_s=_int(get(s, "target", "retryPolicy", "maximumEventAgeInSeconds"),
                                       facts.SCHEDULER_DEFAULT_EVENT_AGE_S),
        lambda_max_event_age_s=_int(get(invoke.props, "maximumEventAgeInSeconds"), facts.LAMBDA_DEFAULT_EVENT_AGE_S),
        timeout_s=_int(get(f, "timeout"), facts.LAMBDA_DEFAULT_TIMEOUT_S),
        reserved_concurrency=integer(get(f, "reservedConcurrentExecutions")),
        email_subscriptions=tuple(sorted(str(get(x.props, "endpoint")) for x in every(observed, SUBSCRIPTION)
                                         if get(x.props, "protocol") == "email")),
        webhook_secrets=tuple(sorted(str(get(topic.props, "tags", WEBHOOK_TAG, default="")).split())),
        memory_mb=_int(get(f, "memorySize"), facts.LAMBDA_DEFAULT_MEMORY_MB),
        secrets=json_map(own.get(SECRETS_ENV)), env=user,
        runtime=str(get(f, "runtime", default="")), entry=own.get(ENTRY_ENV, ""),
        code_digest=_code(own.get(CODE_ENV, ""), f), stamps=stamps(get(f, "tags")))


def _code(stamped: str, function: Mapping[str, object]) -> str:
    """Return the code digest, unless a live read shows another package running than the one built from git."""
    live, built = text(get(function, "codeSha256")), text(get(function, "sourceCodeHash"))
    if live and built and live != built:  # registered inputs carry no codeSha256; a live reader sets both
        return f"package sha256 {live} (git builds {built})"
    return stamped


def _int(value: object, default: int) -> int:
    found = integer(value)
    return default if found is None else found  # an absent setting is the service's default
