"""Realistic secret shapes, each with the part that must never appear in any output, file or message.

The values are made up (none is a live credential) but shaped like the real thing, so detection that works here
works on a real leak. `NEEDLES` are the secret parts: the password of a DSN, the signature of a URL, a key's body.
"""

from __future__ import annotations

PEM_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBq"
PEM = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----\n"

# name -> (the value as a user would paste it, the secret part of it)
SHAPES: dict[str, tuple[str, str]] = {
    "aws-temporary-key": ("ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
    "aws-access-key": ("AKIA2E0A8F3B244C9986", "AKIA2E0A8F3B244C9986"),
    "google-api-key": ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    "github-token": ("ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnlyAbCd12", "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnlyAbCd12"),
    "github-fine-grained": ("github_pat_11AAQ7ZVY0abcdefghij_KLMNOPqrstuvWXYZ0123456789abcdefghijKLMNOPqrstu",
                            "github_pat_11AAQ7ZVY0abcdefghij"),
    "gitlab-token": ("glpat-xY9vR2kLm4nP8qT1wZ3s", "glpat-xY9vR2kLm4nP8qT1wZ3s"),
    "slack-token": ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx"),
    "slack-webhook": ("https://hooks.slack.com/services/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",
                      "q8R9s0T1u2V3w4X5y6Z7a8B9"),
    "discord-webhook": ("https://discord.com/api/webhooks/123456789012345678/Xq7Lr2Pz9Wm4Kd1Nv8Bc3Ht6Jy5Gf0Se",
                        "Xq7Lr2Pz9Wm4Kd1Nv8Bc3Ht6Jy5Gf0Se"),
    "teams-webhook": ("https://acme.webhook.office.com/webhookb2/7c1f/IncomingWebhook/9d2e4b7a8c6f41d3b5a0e2c9",
                      "9d2e4b7a8c6f41d3b5a0e2c9"),
    "google-chat-webhook": ("https://chat.googleapis.com/v1/spaces/AAAAx1/messages?key=AIzaSyDdI0hCZtE6vySjMm-WEf"
                            "RTgjplfP4Pd0&token=Qm9ndXNDaGF0VG9rZW4xMjM0", "Qm9ndXNDaGF0VG9rZW4xMjM0"),
    "postgres-dsn": ("postgresql://ledger:S3cr3t-Pa55w0rd@db.internal:5432/ledger", "S3cr3t-Pa55w0rd"),
    "url-userinfo": ("https://deploy:hunter2hunter2@artifacts.example.com/simple/", "hunter2hunter2"),
    "token-query": ("https://api.example.com/export?format=csv&token=9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706"),
    "sas-signature": ("https://acmestore.blob.core.windows.net/c/b.zip?sv=2022-11-02&se=2030-01-01&sr=b&sp=r"
                      "&sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"),
    "azure-storage-connection": ("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=c2VjcmV0a2V5c2VjcmV0"
                                 "a2V5c2VjcmV0a2V5MTIzNA==;EndpointSuffix=core.windows.net",
                                 "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNA"),
    "sql-connection": ("Server=tcp:db.example.com,1433;Database=ledger;User ID=app;Password=Tr0ub4dor3xyz;",
                       "Tr0ub4dor3xyz"),
    "jwt": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWRnZXIifQ.c2lnbmF0dXJlc2lnbmF0dXJl", "c2lnbmF0dXJlc2lnbmF0dXJl"),
    "private-key": (PEM, PEM_BODY),
}
# Plain-looking values that are secret because of the name they are given.
NAMED: dict[str, tuple[str, str]] = {
    "SMTP_PASS": ("correct-horse-battery", "correct-horse-battery"),
    "LEDGER_DB_PASSWORD": ("plainvalue-zebra-42", "plainvalue-zebra-42"),
    "EXPORT_TOKEN": ("tok-7f3a9b2c1d8e", "tok-7f3a9b2c1d8e"),
    "AWS_SECRET_ACCESS_KEY": ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9EXAMPLE"),
}
NEEDLES: tuple[str, ...] = tuple(n for _v, n in (*SHAPES.values(), *NAMED.values()))


def leaks(text: str) -> list[str]:
    """Return every needle found in a text (or its JSON-escaped form)."""
    escaped = text.replace("\\n", "\n").replace("\\/", "/").replace("\\u0026", "&")
    return [n for n in NEEDLES if n in text or n in escaped]
