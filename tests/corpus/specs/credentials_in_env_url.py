from infra.dsl import cron, divergence, secret, workflow

workflow(
    name="dsn-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={
        "source": "functions/job",
        "entry": "main.handler",
        "runtime": "python3.12",
        "env": {"DATABASE_URL": "postgres://admin:hunter2@db.internal:5432/ledger"},
    },
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/credentials_in_env_url.py:13: function.env.DATABASE_URL: '<redacted 48 characters>' — looks like an inlined secret value; secrets are never stored in git — store it in each target's secret store and write secrets={'DATABASE_URL': secret('name')}
