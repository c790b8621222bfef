from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="twin-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 4 * * *"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)

workflow(
    name="twin-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 4 * * *"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)

# expect: workflows/duplicate_names.py:14: name: 'twin-job' — is already used by workflows/duplicate_names.py:4 — give every workflow its own name
