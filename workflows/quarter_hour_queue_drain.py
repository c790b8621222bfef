"""Queue drain: every 15 minutes, on the targets that hold the queues (a subset of all targets)."""

from infra.dsl import cron, workflow

workflow(
    name="queue-drain",
    schema=1,
    description="Move expired messages from the work queues to the archive every 15 minutes.",
    owner="platform@example.com",
    schedule=cron("*/15 * * * *", tz="UTC"),
    function={
        "source": "functions/queue_drain",
        "entry": "main.handler",
        "runtime": "python3.12",
        "memory_mb": 256,
        "env": {"MAX_AGE_MINUTES": "60", "BATCH_SIZE": "500"},
    },
    retry={"attempts": 1},
    timeout="2m",
    allow_overlap=False,
    notify=["mailto:platform-oncall@example.com"],
    targets={"aws": {}, "gcp": {}, "onprem": {"host": "batch-01"}},
)
