from infra.dsl import cron, workflow

workflow(
    name="valid-job",
    schema=1,
    description="A valid job.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
