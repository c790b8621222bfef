"""The documented range of each retry/timeout setting a rule checks, by resource type and property path.

The numbers come from infra/fidelity.py, which cites each platform's documentation.
"""

from __future__ import annotations

import re
from typing import Any

from infra import fidelity as lim

# (type, property path, setting, canonical field, low, high): the documented range of each limited setting.
LIMITS = (
    ("aws:lambda/function:Function", "timeout", "Lambda timeout", "timeout", 1, lim.LAMBDA_MAX_TIMEOUT_S),
    ("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "maximumRetryAttempts",
     "MaximumRetryAttempts", "retry", 0, lim.LAMBDA_MAX_RETRIES),
    ("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "maximumEventAgeInSeconds",
     "MaximumEventAgeInSeconds", "retry", 60, lim.LAMBDA_MAX_EVENT_AGE_S),
    ("aws:scheduler/schedule:Schedule", "target.retryPolicy.maximumRetryAttempts",
     "scheduler MaximumRetryAttempts", "retry", 0, 185),
    ("aws:scheduler/schedule:Schedule", "target.retryPolicy.maximumEventAgeInSeconds",
     "scheduler MaximumEventAgeInSeconds", "retry", 60, lim.SCHEDULER_MAX_EVENT_AGE_S),
    ("gcp:cloudscheduler/job:Job", "retryConfig.retryCount", "Cloud Scheduler retry_count", "retry", 0,
     lim.GCP_MAX_RETRIES),
    ("gcp:cloudscheduler/job:Job", "attemptDeadline", "Cloud Scheduler attempt_deadline", "timeout",
     lim.GCP_MIN_ATTEMPT_DEADLINE_S, lim.GCP_MAX_ATTEMPT_DEADLINE_S),
    ("gcp:cloudfunctionsv2/function:Function", "serviceConfig.timeoutSeconds", "Cloud Functions timeout",
     "timeout", 1, 3600),
)


def seconds(value: Any) -> int:
    """Return seconds from 300, "300s" or an Azure timespan "00:10:00"."""
    text = str(value)
    if re.fullmatch(r"\d+:\d{2}:\d{2}", text):
        h, m, s = (int(x) for x in text.split(":"))
        return h * 3600 + m * 60 + s
    return int(float(text.rstrip("s")))
