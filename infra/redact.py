"""Recognise secret-shaped values and names, and stand in for them wherever a value would be echoed.

The one place that knows what a secret looks like: the workflow and stack validators refuse such values, every
error message (`infra.errors.SpecError`) and preview violation is passed through here before it is shown, and the
scanner test (tests/test_secret_scanner.py) checks every output against the same corpus. Stdlib only, so it can
be shipped beside a host-side script as `canonical.py` is.
"""

from __future__ import annotations

import re

# Names whose values are secret by role: an environment variable, a config key, the last part of a field path.
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|(^|[_.-])PASS($|[_.-])|(^|[_.-])PWD($|[_.-])|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CREDENTIAL|SIGNATURE|(^|[_.-])SIG($|[_.-])|CONN(ECTION)?_?STR|(^|[_.-])DSN($|[_.-])|WEBHOOK"
    r"|HOSTKEY|PRIVATEKEYENV",
    re.IGNORECASE)
# Shapes of secret values, each with what it is; searched anywhere inside a text.
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((what, re.compile(rx)) for what, rx in (
    ("a PEM key or certificate block", r"-----BEGIN [A-Z0-9 ]*-----"),
    ("an OpenSSH private key", r"\bb3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]*"),
    ("an AWS access key ID", r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("a GitHub token", r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("a GitLab token", r"\bgl(pat|dt|rt|ptt|cbt|ft|imt|soat|oas)-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}"),
    ("a Stripe key", r"\b[rs]k_(live|test)_[A-Za-z0-9]{16,}"),
    ("an npm or PyPI token", r"\b(npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{20,})"),
    ("a JSON web token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    ("a password in a URL", r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*:[^/\s@'\"]+@"),
    ("a credential in a URL's query", r"[?&](access_?token|token|sig|signature|api_?key|apikey|key|code|password"
                                      r"|pwd|secret|auth|client_secret|x-amz-signature|x-amz-credential"
                                      r"|x-amz-security-token|x-goog-signature|x-goog-credential)=[^&\s'\"]+"),
    ("a chat webhook URL", r"https?://(hooks\.slack\.com/(services|workflows|triggers)/|(canary\.|ptb\.)?discord"
                           r"(app)?\.com/api/webhooks/|[a-z0-9.-]*\.webhook\.office\.com/|outlook\.office(365)?\.com/"
                           r"webhook|chat\.googleapis\.com/v1/spaces/|api\.telegram\.org/bot|[a-z0-9.-]*\.logic\."
                           r"azure\.com/workflows/|oapi\.dingtalk\.com/robot/|qyapi\.weixin\.qq\.com/cgi-bin/webhook)"
                           r"[^\s'\"]*"),
    ("a password in a connection string", r"(?i)\b(password|passwd|pwd|accountkey|sharedaccesskey"
                                          r"|sharedaccesssignature|client_?secret)\s*=\s*[^;\s'\"&]+"),
))
# A JSON or YAML pair whose key names a secret: `"password": "x"`, `token: x`.
_PAIR = re.compile(r"""(?i)(["']?[A-Za-z0-9_.-]*(password|passwd|secret|token|api_?key)["']?\s*[:=]\s*)"""
                   r"""(["'][^"'\s]{4,}["']|(?!secret\()[^\s,;}"'()]{4,})""")
MARK = "<redacted>"


def shape_of(text: str) -> str | None:
    """Return what secret shape appears in text (e.g. 'a GitHub token'), or None."""
    for what, pattern in SHAPES:
        if pattern.search(text):
            return what
    return None


def secret_name(name: str) -> bool:
    """Tell whether a name (environment variable, config key, field path) says its value is secret."""
    last = re.split(r"[.\[\]]", name.rstrip("]"))[-1] if name else ""
    return last != "secrets" and bool(SECRET_NAME.search(last))  # `secrets` itself holds references, not values


def looks_secret(key: str, value: str) -> bool:
    """Tell whether a plain value looks like an inlined secret, by its key's name or by its own shape."""
    return bool(value) and (secret_name(key) or shape_of(value) is not None)


def redacted(value: object) -> str:
    """Stand in for a value that must never be echoed."""
    return f"<redacted {len(str(value))} characters>"


def scrub(text: str) -> str:
    """Replace every secret-shaped part of a text, and every value of a secret-named pair, with a mark."""
    for _what, pattern in SHAPES:
        text = pattern.sub(MARK, text)
    return _PAIR.sub(lambda m: m.group(1) + MARK, text)


def shown(field: str, value: object) -> object:
    """Return what may be echoed of a field's value: the value itself, or a stand-in when its role or shape is secret.

    Plain text, numbers and a mailto address are shown as they are; a value under a secret-named field (hostKey,
    privateKeyEnv, a *_PASSWORD key, ...) or containing a secret shape anywhere (also inside a dict or list) is not.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else _repr(value)
    if text.startswith("<redacted ") or (text.lower().startswith("mailto:") and shape_of(text) is None):
        return value
    if secret_name(field) or shape_of(text) is not None or _PAIR.search(text):
        return redacted(text)
    return value


def shown_path(value: str) -> str:
    """Return a path as it may be echoed: itself when it reads as a file path, else a stand-in (a key pasted inline)."""
    plain = re.fullmatch(r"[~./]?[A-Za-z0-9._/ ~-]{1,255}", value) is not None
    return value if plain and shape_of(value) is None else redacted(value)


def _repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:  # a user object whose repr fails: nothing to echo
        return "<unprintable>"
