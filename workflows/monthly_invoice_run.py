"""Invoice run: the first Monday of each month. Google Cloud Scheduler has no '#', so GCP is not a target."""

from infra.dsl import cron, secret, workflow

workflow(
    name="monthly-invoice-run",
    schema=1,
    description="Issue the previous month's invoices on the first Monday of the month at 06:00 UTC.",
    owner="billing@example.com",
    schedule=cron("0 6 * * MON#1", tz="UTC"),
    function={
        "source": "functions/invoice_run",
        "entry": "main.handler",
        "runtime": "python3.12",
        "memory_mb": 1024,
        "secrets": {"BILLING_DB_PASSWORD": secret("billing-db-password")},
    },
    retry={"attempts": 3, "backoff": "exponential", "delay": "1m", "max_delay": "10m", "max_event_age": "6h"},
    timeout="10m",
    notify=["mailto:billing-oncall@example.com", secret("billing-alerts-webhook")],
    targets={"aws": {}, "azure": {}, "onprem": {"host": "batch-01"}},
)
