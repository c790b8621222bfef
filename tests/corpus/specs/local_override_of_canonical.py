from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="override-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {"timeout": "15m"}, "gcp": {"region": "us-east1"}},
)
# expect: workflows/local_override_of_canonical.py:10: targets.aws.timeout: '15m' — overrides the canonical field 'timeout', which must be identical on every target — change timeout on the workflow itself; aws may only override: region, memory_mb
