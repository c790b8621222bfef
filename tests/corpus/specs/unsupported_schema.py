from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="future-job",
    schema=2,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/unsupported_schema.py:5: schema: 2 — is not a supported schema version — use schema=1 (supported: 1)
