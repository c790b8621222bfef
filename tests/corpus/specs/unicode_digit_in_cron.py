from infra.dsl import cron, divergence, secret, workflow

workflow(
    name="unicode-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("² 3 * * *"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/unicode_digit_in_cron.py:8: schedule.expression: '² 3 * * *' — minute value '²' is not a number in 0-59 — fix the expression (see docs/schedules.md)
