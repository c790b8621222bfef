from infra.dsl import cron, rate, secret, workflow

workflow(
    name="secret-named-none",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12", "secrets": {"DB_PASSWORD": secret(None)}},
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/secret_named_none.py:9: function.secrets.DB_PASSWORD: '<redacted 12 characters>' — does not name a secret (1-63 lowercase letters, digits and '-', starting with a letter or digit) — write secret('billing-db') with the name the secret stores use
