from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="export-a",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 5 * * *"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)

workflow(
    name="export-b",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 5 * * *"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)

# expect: workflows/overlapping_workflows.py:18: schedule: '0 5 * * *' — overlaps workflow 'export-a' (workflows/overlapping_workflows.py:3): same schedule and the same code, so the job would run twice at every instant — remove one of them, or change what 'export-b' runs
