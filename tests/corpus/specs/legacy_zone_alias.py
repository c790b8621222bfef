from infra.dsl import cron, rate, secret, workflow

workflow(
    name="legacy-zone-alias",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 9 * * *", tz="EST"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect warning: workflows/legacy_zone_alias.py:8: schedule.tz: 'EST' — is a legacy alias of America/Panama (EST has no DST: it is UTC-05:00 all year) — write 'America/Panama', or 'America/New_York' for US Eastern time with DST
