from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="far-host",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"onprem": {"host": "batch-99"}},
)
# expect: workflows/unknown_onprem_host.py:10: targets.onprem.host: 'batch-99' — is not a host of stack 'staging' (Pulumi.staging.yaml) — use one of: batch-01, or add the host to Pulumi.staging.yaml, or name a host per stack ('host': {'staging': 'batch-01', ...})
