from infra.dsl import cron, rate, secret, workflow

workflow(
    name="email-not-an-address",
    schema=1,
    description="A corpus case.",
    owner="team@example.com",
    schedule=cron("0 3 * * *", tz="UTC"),
    function={"source": "functions/job", "entry": "main.handler", "runtime": "python3.12"},
    notify=["mailto:oncall", "mailto:Data Team <data@example.com>"],
    targets={"aws": {}, "gcp": {}},
)
# expect: workflows/email_not_an_address.py:10: notify[0]: 'mailto:oncall' — is not an e-mail address — write 'mailto:team@example.com' (one address per entry, no name or spaces)
# expect: workflows/email_not_an_address.py:10: notify[1]: 'mailto:Data Team <data@example.com>' — is not an e-mail address — write 'mailto:team@example.com' (one address per entry, no name or spaces)
