from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="Nightly_Export",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/name_not_dns_safe.py:4: name: 'Nightly_Export' — is not DNS-safe (lowercase letters, digits and '-', starting with a letter, at most 40 characters) — rename it, e.g. 'nightly-billing'
