from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="lenient-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
    accept=[divergence(target="gcp", kind="dst-gap", reason="ok")],
)
# expect: workflows/divergence_without_reason.py:11: accept[0].reason: 'ok' — must explain in a sentence why the divergence is acceptable — write the reason an auditor will read
