"""The documented range of each retry/timeout setting a rule checks, by resource type and property path.

The numbers come from each target's facts (infra/targets/<t>/facts.py), which cite the platform's documentation.
"""

from __future__ import annotations

import re
from typing import Any

from infra.targets.aws import facts as aws
from infra.targets.gcp import facts as gcp

# (type, property path, setting, canonical field, low, high): the documented range of each limited setting.
LIMITS = (
    ("aws:lambda/function:Function", "timeout", "Lambda timeout", "timeout", 1, aws.LAMBDA_MAX_TIMEOUT_S),
    ("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "maximumRetryAttempts",
     "MaximumRetryAttempts", "retry", 0, aws.LAMBDA_MAX_RETRIES),
    ("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "maximumEventAgeInSeconds",
     "MaximumEventAgeInSeconds", "retry", aws.LAMBDA_MIN_EVENT_AGE_S, aws.LAMBDA_MAX_EVENT_AGE_S),
    ("aws:scheduler/schedule:Schedule", "target.retryPolicy.maximumRetryAttempts",
     "scheduler MaximumRetryAttempts", "retry", 0, aws.SCHEDULER_MAX_RETRIES),
    ("aws:scheduler/schedule:Schedule", "target.retryPolicy.maximumEventAgeInSeconds",
     "scheduler MaximumEventAgeInSeconds", "retry", aws.SCHEDULER_MIN_EVENT_AGE_S,
     aws.SCHEDULER_MAX_EVENT_AGE_S),
    ("gcp:cloudscheduler/job:Job", "retryConfig.retryCount", "Cloud Scheduler retry_count", "retry", 0,
     gcp.MAX_RETRIES),
    ("gcp:cloudscheduler/job:Job", "attemptDeadline", "Cloud Scheduler attempt_deadline", "timeout",
     gcp.MIN_ATTEMPT_DEADLINE_S, gcp.MAX_ATTEMPT_DEADLINE_S),
    ("gcp:cloudfunctionsv2/function:Function", "serviceConfig.timeoutSeconds", "Cloud Functions timeout",
     "timeout", 1, gcp.MAX_FUNCTION_TIMEOUT_S),
)


def seconds(value: Any) -> int:
    """Return seconds from 300, "300s" or an Azure timespan "00:10:00"."""
    text = str(value)
    if re.fullmatch(r"\d+:\d{2}:\d{2}", text):
        h, m, s = (int(x) for x in text.split(":"))
        return h * 3600 + m * 60 + s
    return int(float(text.rstrip("s")))
