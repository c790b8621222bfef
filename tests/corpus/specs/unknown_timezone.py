from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="bad-zone",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="Europe/Berln"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/unknown_timezone.py:8: schedule.tz: 'Europe/Berln' — is not a known IANA time zone — use a name such as 'UTC', 'Europe/Berlin' or 'America/New_York' (see the tz database)
