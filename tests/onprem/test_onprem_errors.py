"""Every failure names host and step, and the previous version stays active (real sshd, real file systems)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from onprem_support import KEY_ENV, Host, bundle, canonical, make_props

from infra.targets.onprem.host.provider import OnpremWorkflowProvider
from infra.targets.onprem.host.ssh import OnpremError

CODE = "def handler(event, context):\n    return None\n"


def _props(host: Host, tmp_path: Path, name: str, *, base_dir: str | None = None, extra: dict[str, bytes] | None = None,
           **kw: Any) -> dict[str, Any]:
    ref = bundle(tmp_path / f"src-{name}-{len(extra or {})}", CODE, extra)
    return make_props(host, canonical(name), ref, base_dir=base_dir or host.base_dir(name), **kw)


def _fail(props: dict[str, Any]) -> OnpremError:
    with pytest.raises(OnpremError) as info:
        OnpremWorkflowProvider(connect_timeout=3).create(props)
    return info.value


def test_onprem_wrong_host_key_is_refused_before_any_command(onprem_host: Host, tmp_path: Path) -> None:
    err = _fail(_props(onprem_host, tmp_path, "wrong-key", host_key=onprem_host.other_host_key))
    assert err.step == "host-key"
    assert str(err).startswith(f"on-prem host {onprem_host.user}@127.0.0.1:{onprem_host.port}: step host-key: the host "
                               "presented ssh-ed25519 key SHA256:")
    assert "refusing to connect" in str(err)
    assert not Path(onprem_host.base_dir("wrong-key")).exists()


def test_onprem_unreachable_host_names_the_connect_step(onprem_host: Host, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    err = _fail(_props(onprem_host, tmp_path, "unreachable", port=closed))
    assert err.step == "connect" and f"{onprem_host.user}@127.0.0.1:{closed}: step connect: cannot connect" in str(err)


def test_onprem_refused_deploy_key_names_the_auth_step(onprem_host: Host, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, str(onprem_host.workdir / "other"))  # a key the host does not authorize
    err = _fail(_props(onprem_host, tmp_path, "bad-auth"))
    assert err.step == "auth" and f"refused the deploy key for user '{onprem_host.user}' (permission denied" in str(err)


def test_onprem_unwritable_base_dir_is_a_permission_error_naming_the_probe(onprem_host: Host,
                                                                           tmp_path: Path) -> None:
    root_owned = Path(f"/var/lib/lockstep-root-{os.getpid()}")
    root_owned.mkdir(mode=0o755, exist_ok=True)
    try:
        err = _fail(_props(onprem_host, tmp_path, "no-perm", base_dir=f"{root_owned}/base"))
    finally:
        root_owned.rmdir()
    assert err.step == "probe"
    assert f"permission denied: user '{onprem_host.user}' cannot create or write {root_owned}/base" \
        in str(err)


@pytest.fixture
def tiny_fs(onprem_host: Host) -> Iterator[Path]:
    """Mount a 512 KiB tmpfs owned by the test user; unmount afterwards."""
    mount = onprem_host.home / "tiny"
    mount.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"mount tmpfs failed (needs root with CAP_SYS_ADMIN): {done.stderr}"
    subprocess.run(["chown", f"{onprem_host.user}:{onprem_host.user}", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def _assert_still_active(root: Path, version: str, crontab: str, name: str) -> None:
    assert (root / "current").resolve() == root / "versions" / version
    assert json.loads((root / "manifest.json").read_text())["version"] == version
    assert crontab.count(f"# lockstep:begin {name} version={version}") == 1


def test_onprem_full_disk_fails_the_stage_step_and_keeps_the_previous_version(onprem_host: Host, tmp_path: Path,
                                                                              tiny_fs: Path) -> None:
    provider = OnpremWorkflowProvider()
    v1 = provider.create(_props(onprem_host, tmp_path, "full", base_dir=str(tiny_fs))).outs or {}
    big = _props(onprem_host, tmp_path, "full", base_dir=str(tiny_fs), extra={"blob.bin": b"x" * 1024 * 1024},
                 epoch=2)
    with pytest.raises(OnpremError) as info:
        provider.update("x", v1, big)
    assert info.value.step == "stage"
    assert "No space left on device (ENOSPC)" in str(info.value) and "previous version stays active" in str(info.value)
    root = tiny_fs / "workflows" / "full"
    _assert_still_active(root, v1["version"], onprem_host.crontab(), "full")
    assert [p.name for p in (root / "versions").iterdir()] == [v1["version"]]  # the partial copy was removed


def test_onprem_read_only_target_fails_before_writing_and_keeps_the_previous_version(
        onprem_host: Host, tmp_path: Path, tiny_fs: Path) -> None:
    provider = OnpremWorkflowProvider()
    v1 = provider.create(_props(onprem_host, tmp_path, "readonly", base_dir=str(tiny_fs))).outs or {}
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with pytest.raises(OnpremError) as info:
        provider.update("x", v1, _props(onprem_host, tmp_path, "readonly", base_dir=str(tiny_fs),
                                        extra={"more.txt": b"v2"}, epoch=2))
    assert info.value.step == "probe" and "read-only file system" in str(info.value)
    _assert_still_active(tiny_fs / "workflows" / "readonly", v1["version"], onprem_host.crontab(), "readonly")


def test_onprem_unprovisioned_secret_fails_the_probe_and_a_provisioned_one_deploys(onprem_host: Host,
                                                                                  tmp_path: Path) -> None:
    props = _props(onprem_host, tmp_path, "secretive")
    props["canonical"]["function"]["secrets"] = {"DB_PASSWORD": "db-password"}
    err = _fail(props)
    assert err.step == "probe" and "secret(s) db-password are not provisioned in " in str(err)
    secrets = Path(onprem_host.base_dir("secretive")) / "secrets" / "secretive"  # this workflow's own folder
    secrets.mkdir(parents=True)
    (secrets / "db-password").write_text("s3cret\n")
    subprocess.run(["chown", "-R", f"{onprem_host.user}:{onprem_host.user}", str(secrets.parent.parent)], check=True)
    os.chmod(secrets, 0o755)
    err = _fail(props)  # provisioned, but every local user could read it
    assert err.step == "probe" and f"secret file(s) {secrets}/db-password (mode 644, directory 755) can be read by " \
        "other users of the host; run chmod 700" in str(err)
    os.chmod(secrets, 0o700)
    os.chmod(secrets / "db-password", 0o600)
    outs = OnpremWorkflowProvider().create(props).outs or {}
    assert outs["live"]["drift"] is False
