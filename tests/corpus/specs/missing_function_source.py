from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="no-source",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/nope", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/missing_function_source.py:9: function.source: 'functions/nope' — is not a directory next to the workflow file — create workflows/functions/nope/ with the function's code, or fix the path
