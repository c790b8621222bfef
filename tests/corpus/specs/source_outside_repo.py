from infra.dsl import cron, divergence, secret, workflow

workflow(
    name="outside-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "../../../etc", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/source_outside_repo.py:9: function.source: '../../../etc' — points outside the repository — keep the function's code under workflows/, e.g. 'functions/<name>'
