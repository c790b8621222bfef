from infra.dsl import cron, rate, secret, workflow

workflow(
    name="host-for-an-unknown-stack",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"onprem": {"host": {"staging": "batch-01", "dev": "batch-01"}}},
)
# expect: workflows/host_for_an_unknown_stack.py:10: targets.onprem.host: 'dev' — names stack 'dev', but there is no Pulumi.dev.yaml — use one of the stacks: staging
