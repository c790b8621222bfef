from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="bad-cron",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 25 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/invalid_cron.py:8: schedule.expression: '0 25 * * *' — hour value 25 is outside 0-23 — fix the expression (see docs/schedules.md)
