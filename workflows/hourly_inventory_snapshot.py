"""Inventory snapshot: hourly, with local overrides (more memory on AWS, a US region on GCP)."""

from infra.dsl import cron, workflow

workflow(
    name="inventory-snapshot",
    schema=1,
    description="Snapshot warehouse stock levels five minutes past every hour.",
    owner="supply-chain@example.com",
    schedule=cron("5 * * * *", tz="UTC"),
    function={
        "source": "functions/inventory_snapshot",
        "entry": "main.handler",
        "runtime": "python3.12",
        "memory_mb": 512,
        "env": {"WAREHOUSES": "ber,nyc,sgp"},
    },
    retry={"attempts": 2, "backoff": "exponential", "delay": "30s", "max_delay": "2m", "max_event_age": "30m"},
    timeout="3m",
    notify=["mailto:supply-chain-oncall@example.com"],
    targets={
        "aws": {"memory_mb": 1024},            # local: the AWS copy also compresses the snapshot
        "azure": {},
        "gcp": {"region": "us-east1"},         # local: next to the US warehouse systems
        "onprem": {"host": "batch-01"},
    },
)
