from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="secret-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={
        "source": "functions/job",
        "entry": "main.handler",
        "runtime": "python3.12",
        "env": {"DB_PASSWORD": "hunter2hunter2"},
        "secrets": {"API_TOKEN": "tok-123456"},
    },
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/inlined_secret.py:13: function.env.DB_PASSWORD: '<redacted 14 characters>' — looks like an inlined secret value; secrets are never stored in git — store it in each target's secret store and write secrets={'DB_PASSWORD': secret('name')}
# expect: workflows/inlined_secret.py:14: function.secrets.API_TOKEN: '<redacted 10 characters>' — is an inlined secret value where a reference is required — remove the value from git, store it in the targets' secret stores, and write 'API_TOKEN': secret('name')
