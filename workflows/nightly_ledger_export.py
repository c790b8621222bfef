"""Nightly ledger export: a UTC batch, on every target, retried and watched."""

from infra.dsl import cron, secret, workflow

workflow(
    name="nightly-ledger-export",
    schema=1,
    description="Export the previous UTC day's ledger entries as a JSON manifest for the data lake.",
    owner="data-platform@example.com",
    schedule=cron("30 1 * * *", tz="UTC"),
    function={
        "source": "functions/ledger_export",
        "entry": "main.handler",
        "runtime": "python3.12",
        "memory_mb": 512,
        "env": {"EXPORT_PREFIX": "ledger/daily"},
        "secrets": {"LEDGER_DB_PASSWORD": secret("ledger-db-password")},
    },
    retry={"attempts": 3, "backoff": "exponential", "delay": "1m", "max_delay": "5m", "max_event_age": "2h"},
    timeout="10m",
    allow_overlap=False,
    notify=["mailto:data-oncall@example.com"],
    targets={"aws": {}, "azure": {}, "gcp": {}, "onprem": {"host": "batch-01"}},
)
