"""Payroll sync: a business job on Berlin time, at an hour no DST change touches."""

from infra.dsl import cron, secret, workflow

workflow(
    name="berlin-payroll-sync",
    schema=1,
    description="Push approved timesheets to the payroll provider at 09:15 Berlin time on working days.",
    owner="people-systems@example.com",
    # 09:15 exists exactly once on every day of the year in Europe/Berlin (DST changes happen at 02:00-03:00).
    schedule=cron("15 9 * * MON-FRI", tz="Europe/Berlin"),
    function={
        "source": "functions/payroll_sync",
        "entry": "main.handler",
        "runtime": "python3.12",
        "memory_mb": 256,
        "env": {"PAYROLL_COUNTRY": "DE"},
        "secrets": {"PAYROLL_API_TOKEN": secret("payroll-api-token")},
    },
    retry={"attempts": 2, "backoff": "fixed", "delay": "2m", "max_delay": "2m", "max_event_age": "1h"},
    timeout="5m",
    notify=["mailto:people-systems-oncall@example.com"],
    targets={"aws": {}, "azure": {}, "gcp": {}, "onprem": {"host": "batch-01"}},
)
