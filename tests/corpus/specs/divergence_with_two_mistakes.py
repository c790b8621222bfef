from infra.dsl import cron, divergence, secret, workflow

workflow(
    name="sloppy-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
    accept=[divergence(target="k8s", kind="dst-gapp", reason="meh")],
)
# expect: workflows/divergence_with_two_mistakes.py:11: accept[0].kind: 'dst-gapp' — is not one of the accepted values — use one of: dst-gap, dst-overlap, day-rule, unsupported-zone, assumed
# expect: workflows/divergence_with_two_mistakes.py:11: accept[0].reason: 'meh' — must explain in a sentence why the divergence is acceptable — write the reason an auditor will read
# expect: workflows/divergence_with_two_mistakes.py:11: accept[0].target: 'k8s' — is not one of this workflow's targets — use one of: aws, gcp
