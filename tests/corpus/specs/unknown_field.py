from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="typo-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedul=cron("0 3 * * *"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/unknown_field.py:3: schedule: (missing) — is required — add schedule=... to the declaration
# expect: workflows/unknown_field.py:8: schedul: cron('0 3 * * *') — is not a known field — use one of: name, schema, description, owner, schedule, function, retry, timeout, allow_overlap, notify, targets, accept
