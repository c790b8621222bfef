from infra.dsl import cron, secret, workflow, divergence

workflow(
    name="hook-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    notify=["https://hooks.example.com/services/T000/B000/XXXX"],
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/inline_webhook_url.py:10: notify[0]: '<redacted 49 characters>' — is a webhook URL; such URLs carry credentials and never go in git — store the URL as a secret and write secret('name') in notify
