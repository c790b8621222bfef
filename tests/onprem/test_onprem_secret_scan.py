"""What an on-prem deploy writes holds no secret value: only the secrets directory does (provisioned out of band).

From the user's files (an example workflow referencing a database password and a webhook by name) through the
provider to the real sshd: every file under the host's base directory outside the secrets directory, the crontab
and the provider's outputs (what Pulumi keeps in state) are scanned for the provisioned values and the deploy key.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from onprem_support import KEY_ENV, Host

from infra.loader import load_repo
from infra.model import OnpremHost
from infra.targets.onprem.host.layout import Layout
from infra.targets.onprem.host.props import props_for
from infra.targets.onprem.host.provider import OnpremWorkflowProvider
from infra.targets.onprem.host.ssh import HostConn, OnpremError, load_private_key
from tests.secret_corpus import SHAPES, leaks

REPO = Path(__file__).resolve().parents[2]


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "workflows").mkdir(parents=True)
    shutil.copy(REPO / "workflows" / "nightly_ledger_export.py", root / "workflows")
    shutil.copytree(REPO / "workflows" / "functions" / "ledger_export", root / "workflows" / "functions" /
                    "ledger_export")
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, root / name)
    return root


def test_onprem_deploy_writes_no_secret_value_outside_the_secrets_directory(
        onprem_host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path)
    wf = next(w for w in load_repo(root).require_valid().workflows if w.name == "nightly-ledger-export")
    base = onprem_host.base_dir("secret-scan")
    secrets = Path(Layout(base, wf.name).secrets_dir)
    secrets.mkdir(parents=True)
    (secrets / "ledger-db-password").write_text(SHAPES["postgres-dsn"][0] + "\n")
    (secrets / "data-alerts-webhook").write_text(SHAPES["slack-webhook"][0] + "\n")
    secrets.chmod(0o700)  # the probe refuses secrets other users of the host can read
    for path in secrets.iterdir():
        path.chmod(0o600)
    subprocess.run(["chown", "-R", f"{onprem_host.user}:{onprem_host.user}", str(Path(base))], check=True)
    key_text = onprem_host.client_key.read_text()
    monkeypatch.setenv(KEY_ENV, key_text)  # the deploy key held inline in the variable: it must not travel either
    host = OnpremHost("batch-01", "127.0.0.1", onprem_host.port, onprem_host.user, onprem_host.host_key, "cron",
                      "Etc/UTC", base)
    props = props_for(wf, host, epoch=1, commit="0" * 40, private_key_env=KEY_ENV, repo_root=root)
    outs = OnpremWorkflowProvider().create(props).outs or {}
    key_body = "".join(key_text.splitlines()[1:3])
    written = {str(p): p.read_text(errors="replace") for p in Path(base).rglob("*")
               if p.is_file() and not p.is_relative_to(secrets)}
    assert any(p.endswith("config.json") for p in written), sorted(written)  # the deploy did write its files
    written["crontab"] = onprem_host.crontab()
    written["outputs"] = repr(outs)
    found = {where: hits for where, text in written.items()
             if (hits := leaks(text) + ([key_body] if key_body in text else []))}
    assert found == {}


def test_a_deploy_key_pasted_into_the_key_variable_is_never_echoed_in_the_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    body = SHAPES["private-key"][1]
    conn = HostConn("127.0.0.1", 22, "deploy", "ssh-ed25519 AAAA", {"env": "LOCKSTEP_SCAN_KEY"})
    monkeypatch.setenv("LOCKSTEP_SCAN_KEY", f"key: {body}")  # not a PEM block, not a path: the key's body, pasted
    with pytest.raises(OnpremError) as caught:
        load_private_key(conn)
    assert body not in str(caught.value) and "<redacted" in str(caught.value)
