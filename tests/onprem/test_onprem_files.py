"""What leaves the deploying machine and what lands on the host, from the user's files to the real sshd: no link
followed out of the function directory, no key material echoed, no key file others can read, no host file others
can read, and no value with a trailing newline accepted from the stack file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from onprem_engine import STACK, Engine, ProviderFailed, write_repo
from onprem_support import KEY_ENV, Host

from infra.config import load_stack


def test_onprem_symlink_in_the_function_directory_is_refused_before_upload(onprem_host: Host, engine: Engine,
                                                                          tmp_path: Path) -> None:
    outside = tmp_path / "deployer-credentials"
    outside.write_text("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    root = write_repo(tmp_path / "linked", onprem_host, {"linked": "5 5 * * *"})
    (root / "workflows" / "functions" / "linked" / "creds").symlink_to(outside)
    with pytest.raises(ProviderFailed, match=r"step plan: the function directory .* holds symbolic link\(s\) creds; "
                                             r"a link would upload whatever it points at"):
        engine.up(root)
    assert not (Path(onprem_host.base_dir("linked")) / "workflows" / "linked" / "versions").exists()


def test_onprem_host_files_are_readable_by_the_deploy_user_alone(onprem_host: Host, engine: Engine,
                                                                 tmp_path: Path) -> None:
    root = write_repo(tmp_path / "private", onprem_host, {"private": "6 6 * * *"})
    engine.up(root)
    wf = Path(onprem_host.base_dir("private")) / "workflows" / "private"
    loose = [f"{p} {p.stat().st_mode & 0o777:03o}" for p in [wf, *wf.rglob("*")]
             if not p.is_symlink() and p.stat().st_mode & 0o077]
    assert loose == [], "readable by other users of the host"


def test_onprem_key_variable_holding_key_material_is_never_echoed(onprem_host: Host, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBSECRETKEYBODY"
    monkeypatch.setenv(KEY_ENV, body)  # the key's base64 pasted without its BEGIN line
    root = write_repo(tmp_path / "inline", onprem_host, {"inline": "7 7 * * *"})
    engine = Engine()
    try:
        with pytest.raises(ProviderFailed, match=f"step auth: environment variable {KEY_ENV} holds neither a "
                                                 "readable file path nor a PEM private key") as err:
            engine.up(root)
    finally:
        engine.close()
    assert "SECRETKEYBODY" not in str(err.value) and body[:20] not in str(err.value)


def test_onprem_deploy_key_file_readable_by_others_is_refused(onprem_host: Host, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    loose = tmp_path / "loose_key"
    shutil.copy(onprem_host.client_key, loose)
    os.chmod(loose, 0o644)
    monkeypatch.setenv(KEY_ENV, str(loose))
    root = write_repo(tmp_path / "loose", onprem_host, {"loose": "8 8 * * *"})
    engine = Engine()
    try:
        with pytest.raises(ProviderFailed, match=rf"step auth: the deploy key file '{loose}' is readable by other "
                                                 rf"users \(mode 644\); run chmod 600"):
            engine.up(root)
    finally:
        engine.close()


def test_onprem_stack_value_with_a_trailing_newline_is_refused(onprem_host: Host, tmp_path: Path) -> None:
    root = write_repo(tmp_path / "newline", onprem_host, {"newline": "9 9 * * *"})
    stack = root / f"Pulumi.{STACK}.yaml"
    stack.write_text(stack.read_text().replace(f"baseDir: {onprem_host.base_dir('newline')}",
                                               f'baseDir: "{onprem_host.base_dir("newline")}\\n"'))
    config, errors = load_stack(stack, stack.name, STACK)
    assert config is None and [e.field for e in errors] == ["lockstep:onprem.hosts[0].baseDir"]
