from infra.dsl import cron, rate, secret, workflow

workflow(
    name="host-mapping-of-wrong-type",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"onprem": {"host": ["batch-01"]}},
)
# expect: workflows/host_mapping_of_wrong_type.py:10: targets.onprem.host: ['batch-01'] — is not a host name, nor a mapping of stack names to host names — write 'host': 'batch-01', or 'host': {'prod': 'batch-02', 'staging': 'batch-01'}
