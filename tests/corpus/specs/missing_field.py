from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="no-owner",
    schema=1,
    description="No owner.",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/missing_field.py:3: owner: (missing) — is required — add owner=... to the declaration
