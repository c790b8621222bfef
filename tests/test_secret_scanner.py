"""No secret a user plants, or a CI runner holds, reaches any command's output, report, cache file or message.

Two repositories. In the planted one every shape of `secret_corpus` is written where users write values: workflow
env values, descriptions, inlined secrets, inline webhook URLs, a module's error, a syntax error's line, stack
fields (a private key in hostKey and in privateKeyEnv, a connection string, an unknown `password:` key). In the
clean one the secrets are referenced by name, and their values sit in the environment, as on a CI runner. Every
command (validate, explain, schedule, preview in every format) runs on both, through the real CLI entry point, and
neither its output nor any preview cache file may contain a planted value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.cli import main
from tests.preview_support import git
from tests.secret_corpus import NAMED, PEM, SHAPES, leaks

FORMATS = ("table", "markdown", "json", "sarif")
WEBHOOKS = [v for k, (v, _n) in SHAPES.items() if k.endswith("-webhook")]


def _planted_workflow() -> str:
    env = {f"VALUE_{i:02d}": v for i, (v, _n) in enumerate(SHAPES.values())}
    env.update({k: v for k, (v, _n) in NAMED.items()})
    return f'''"""A workflow with every secret shape pasted where values go."""

from infra.dsl import cron, secret, workflow

workflow(
    name="planted-secrets",
    schema=1,
    description="Export with {SHAPES["github-token"][0]}",
    owner="data-platform@example.com",
    schedule=cron("30 1 * * *", tz="UTC", start="{SHAPES["jwt"][0]}"),
    function={{
        "source": "functions/ledger_export",
        "entry": "main.handler",
        "runtime": "python3.12",
        "env": {env!r},
        "secrets": {{"DB_DSN": {SHAPES["postgres-dsn"][0]!r}, "ESCAPE": secret("../../../etc/shadow")}},
    }},
    notify={[*WEBHOOKS, SHAPES["sas-signature"][0]]!r} + [secret("../{SHAPES["gitlab-token"][0]}")],
    retry={{"attempts": {SHAPES["aws-access-key"][0]!r}}},
    targets={{"aws": {{"region": {SHAPES["url-userinfo"][0]!r}}}, "onprem": {{"host": "batch-01"}}}},
)
'''


def _plant(root: Path) -> Path:
    (root / "workflows" / "planted_secrets.py").write_text(_planted_workflow(), encoding="utf-8")
    (root / "workflows" / "raises_secret.py").write_text(
        f"raise RuntimeError('cannot reach {SHAPES['sql-connection'][0]}')\n", encoding="utf-8")
    (root / "workflows" / "syntax_secret.py").write_text(
        f"TOKEN = '{SHAPES['google-api-key'][0]}' +\n", encoding="utf-8")
    stack = root / "Pulumi.staging.yaml"
    text = stack.read_text(encoding="utf-8")
    pem = "|\n" + "".join(f"          {line}\n" for line in PEM.splitlines())
    text = re.sub(r"hostKey: .*\n", lambda _m: f"hostKey: {pem}", text)
    text = text.replace("privateKeyEnv: LOCKSTEP_ONPREM_KEY", f"privateKeyEnv: {SHAPES['google-api-key'][0]}")
    text = text.replace("resourceGroup: rg-lockstep-staging",
                        f"resourceGroup: \"{SHAPES['azure-storage-connection'][0]}\"")
    text = text.replace("    region: eu-central-1\n", f"    region: eu-central-1\n    password: "
                        f"{NAMED['SMTP_PASS'][0]}\n    webhook: \"{SHAPES['teams-webhook'][0]}\"\n", 1)
    stack.write_text(text, encoding="utf-8")
    return root


def _commit(root: Path) -> Path:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def _commands(root: Path, tmp: Path, workflows: list[str]) -> list[list[str]]:
    r = ["--root", str(root)]
    out = [["validate", *r], ["validate", "--json", *r], ["schedule", "check", *r], ["schedule", "check", "--json", *r],
           ["explain", "planted-secrets", *r], ["explain", "no-such-workflow", *r]]
    out += [["explain", name, *r, *json] for name in workflows for json in ([], ["--json"])]
    out += [["preview", "--stack", "staging", "--format", f, "--cache-dir", str(tmp / "cache"), *r] for f in FORMATS]
    return out


def _scan(root: Path, tmp: Path, capfd: pytest.CaptureFixture[str], workflows: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for argv in _commands(root, tmp, workflows):
        code = main(argv)
        out, err = capfd.readouterr()
        assert code in (0, 1, 2), (argv, err)  # 2: a usage error (explain of a workflow that does not exist)
        assert code == 0 or argv[0] != "explain" or argv[1] not in workflows, (argv, err)
        assert "internal error" not in err and "Traceback" not in err, (argv, err)
        if leaked := leaks(out + err):
            found[" ".join(argv[:4])] = leaked
    for path in sorted((tmp / "cache").glob("*")) if (tmp / "cache").is_dir() else []:
        if leaked := leaks(path.read_text(encoding="utf-8", errors="replace")):
            found[f"cache file {path.name}"] = leaked
    return found


def test_no_planted_secret_reaches_any_command_output(repo_copy: Path, tmp_path: Path,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    root = _commit(_plant(repo_copy))
    assert main(["validate", "--root", str(root)]) == 1
    _out, err = capfd.readouterr()
    assert "planted_secrets.py" in err and "hostKey" in err and "privateKeyEnv" in err and "password" in err
    assert err.count("<redacted") >= len(SHAPES) + len(NAMED), err
    assert _scan(root, tmp_path, capfd, []) == {}


def test_secret_names_in_notify_and_function_secrets_cannot_escape_the_secrets_directory(
        repo_copy: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = _plant(repo_copy)
    main(["validate", "--root", str(root)])
    err = capfd.readouterr().err
    assert "function.secrets.ESCAPE: \"secret('../../../etc/shadow')\" — does not name a secret" in err, err
    assert re.search(r"notify\[\d+\]: .* — does not name a secret", err), err


def test_no_runner_secret_reaches_preview_reports_or_the_cache(repo_copy: Path, tmp_path: Path,
                                                              capfd: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = _commit(repo_copy)  # the examples as they are: secrets referenced by name only
    for name, (value, _n) in NAMED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOCKSTEP_ONPREM_KEY", PEM)  # a deploy key held inline in the key variable
    monkeypatch.setenv("GITHUB_TOKEN", SHAPES["github-token"][0])
    monkeypatch.setenv("AWS_SESSION_TOKEN", SHAPES["jwt"][0])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SHAPES["aws-temporary-key"][0])
    names = ["nightly-ledger-export", "berlin-payroll-sync", "ny-morning-report", "monthly-invoice-run"]
    assert _scan(root, tmp_path, capfd, names) == {}
    assert any((tmp_path / "cache").glob("*.json")), "the preview wrote its cache, and the cache was scanned"
