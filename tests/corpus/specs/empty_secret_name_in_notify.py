from infra.dsl import cron, rate, secret, workflow

workflow(
    name="empty-secret-name-in-notify",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    notify=[secret("")],
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/empty_secret_name_in_notify.py:10: notify[0]: "secret('')" — does not name a secret (1-63 lowercase letters, digits and '-', starting with a letter or digit) — write secret('billing-db') with the name the secret stores use
