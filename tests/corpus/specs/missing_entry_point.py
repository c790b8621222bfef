from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="no-entry",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.run", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/missing_entry_point.py:9: function.entry: 'main.run' — main.py defines no function 'run' — define def run(event, context) in main.py
