"""What Google Cloud documents about Cloud Scheduler and Cloud Functions (2nd gen), with sources. SDK-free.

Sources:
  [G1] Cloud Scheduler, "Configure cron job schedules" (time zones and DST: behaviour unspecified)
  [G2] Cloud Scheduler API, Job.retry_config and Job.attempt_deadline (cloud.google.com/scheduler/docs/reference/rest)
  [G4] Cloud Run functions, "Function timeout" (HTTP functions: at most 60 minutes)
"""

from __future__ import annotations

from infra.targets.base import ResourceFacts

MAX_RETRIES = 5                    # Job.retry_config.retry_count 0-5 [G2]
MIN_ATTEMPT_DEADLINE_S = 15        # HTTP targets: attempt_deadline 15 s - 30 min [G2]
MAX_ATTEMPT_DEADLINE_S = 1800
MAX_FUNCTION_TIMEOUT_S = 3600      # HTTP functions [G4]
RESERVED_ENV = ("K_SERVICE", "K_REVISION", "K_CONFIGURATION", "PORT", "FUNCTION_", "LOCKSTEP_")
DST_GAP = "Cloud Scheduler leaves DST-gap and overlap behaviour unspecified"  # [G1]
# Defaults applied when a setting is absent [G2][G4].
DEFAULT_RETRIES = 0
DEFAULT_ATTEMPT_DEADLINE = "180s"
DEFAULT_MIN_BACKOFF = "5s"
DEFAULT_MAX_BACKOFF = "3600s"
DEFAULT_MAX_DOUBLINGS = 5
DEFAULT_MAX_RETRY_DURATION = "0s"
DEFAULT_TIMEOUT_S = 60
DEFAULT_MEMORY = "256M"
DEFAULT_MAX_INSTANCES = 100

# Monitoring resources keep `labels` for channel settings and take stamps in `userLabels`. Types whose provider schema
# takes no labels (tests/test_policy_stamps_sdk.py checks this against the installed SDK).
RESOURCES = ResourceFacts("gcp:", "labels", {"gcp:monitoring/": "userLabels"}, frozenset({
    "gcp:cloudscheduler/job:Job", "gcp:cloudfunctionsv2/functionIamMember:FunctionIamMember",
    "gcp:cloudrun/iamMember:IamMember", "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
    "gcp:projects/iAMMember:IAMMember", "gcp:serviceaccount/account:Account", "gcp:storage/bucketObject:BucketObject",
    "gcp:serviceaccount/iAMMember:IAMMember", "gcp:secretmanager/secretIamMember:SecretIamMember",
    "gcp:pubsub/topicIAMMember:TopicIAMMember"}), "gcp:monitoring/notificationChannel:NotificationChannel")

# The children a workflow adopts from live resources, and the live names each keeps (a new name would replace it).
# Import IDs as the provider documents them (pulumi_gcp `## Import`): a job by
# `projects/{project}/locations/{region}/jobs/{name}`, a Functions v2 function by
# `projects/{project}/locations/{location}/functions/{name}`.
IMPORTABLE: dict[str, tuple[str, ...]] = {"job": ("name",), "function": ("name",)}
