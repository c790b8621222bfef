from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="both-days",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 9 1 * MON", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/both_day_fields.py:8: schedule.expression: '0 9 1 * MON' — restricts both day-of-month ('1') and day-of-week ('MON'); platforms disagree on whether that means AND or OR — keep one of them '*', and use 'MON#1' for 'the first Monday' — fix the expression (see docs/schedules.md)
