"""Morning report: New York business hours, with retries and two notification channels."""

from infra.dsl import cron, secret, workflow

workflow(
    name="ny-morning-report",
    schema=1,
    description="Send the overnight trading summary at 07:00 New York time on weekdays.",
    owner="trading-ops@example.com",
    schedule=cron("0 7 * * MON-FRI", tz="America/New_York"),
    function={
        "source": "functions/morning_report",
        "entry": "main.handler",
        "runtime": "python3.12",
        "memory_mb": 256,
        "env": {"REPORT_DESK": "equities"},
    },
    retry={"attempts": 3, "backoff": "exponential", "delay": "1m", "max_delay": "4m", "max_event_age": "1h"},
    timeout="4m",
    notify=["mailto:trading-ops@example.com", secret("trading-ops-webhook")],
    targets={"aws": {}, "azure": {}, "gcp": {}, "onprem": {"host": "batch-01"}},
)
