from infra.dsl import cron, divergence, secret, workflow

workflow(
    name="shout-job",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    notify=["HTTPS://hooks.example.com/services/T000/B000/sekret", "slack:#oncall"],
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/uppercase_webhook_url.py:10: notify[0]: '<redacted 51 characters>' — is a webhook URL; such URLs carry credentials and never go in git — store the URL as a secret and write secret('name') in notify
# expect: workflows/uppercase_webhook_url.py:10: notify[1]: '<redacted 13 characters>' — is not a notification — write 'mailto:team@example.com' or secret('webhook-name')
