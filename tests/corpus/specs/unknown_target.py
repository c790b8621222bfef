from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="k8s-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "k8s": {}},
)
# expect: workflows/unknown_target.py:10: targets.k8s: 'k8s' — is not a known target — use one of: aws, azure, gcp, onprem
