from infra.dsl import cron, rate, secret, workflow

workflow(
    name="tz-given-to-a-rate",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=rate("15 minutes", tz="Europe/Berlin"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/tz_given_to_a_rate.py:8: schedule.tz: 'Europe/Berlin' — has no effect on a rate, which fires every N minutes of absolute time — remove tz, or use cron(..., tz=...) to fire at local wall-clock times
