from infra.dsl import cron, rate, secret, workflow

workflow(
    name="explicit-none-for-required-field",
    schema=1,
    description=None,
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/explicit_none_for_required_field.py:6: description: None — is required — add description=... to the declaration
