"""A real on-prem host on 127.0.0.1: sshd on a free port with a throwaway host key and client key pair, a test user,
and the cron daemon; started once per session and torn down afterwards (processes stopped by their own pid).

Skips only outside CI when the daemons are missing and cannot be installed (not root); with CI=true it fails.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from onprem_engine import Engine
from onprem_support import KEY_ENV, Host, wait_until

REPO = Path(__file__).resolve().parents[2]
# One user per test session: several sessions (CI jobs, engineers on one machine) may run at once, and each
# session's teardown deletes its user, so a shared name would pull the host from under the others.
USER = f"lockstep-t{os.getpid()}"
BINARIES = ("/usr/sbin/sshd", "/usr/sbin/cron", "/usr/bin/crontab", "/usr/bin/ssh-keygen")


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"on-prem tests cannot run in CI: {why}")
    pytest.skip(why)


def _ensure_binaries() -> None:
    missing = [b for b in BINARIES if not os.path.exists(b)]
    if missing and os.geteuid() == 0:
        subprocess.run([str(REPO / "scripts" / "install-test-deps.sh")], check=True, timeout=900)
        missing = [b for b in BINARIES if not os.path.exists(b)]
    if missing:
        _unavailable(f"missing {', '.join(missing)} and not root to install openssh-server and cron")
    if os.geteuid() != 0:
        _unavailable("the on-prem fixture creates a user and runs cron, which needs root")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _cron_running() -> bool:
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "cron":
                return True
        except OSError:
            continue
    return False


@pytest.fixture(scope="session")
def onprem_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """Start sshd (and cron unless it runs) for a throwaway user on 127.0.0.1; stop them afterwards."""
    _ensure_binaries()
    work = tmp_path_factory.mktemp("onprem-host")
    os.chmod(work, 0o755)
    for name in ("host", "client", "other"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True)
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    subprocess.run(["usermod", "-p", "*", USER], check=True)  # locked ('!') accounts are refused with UsePAM no
    home = Path(f"/home/{USER}")
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(work / "client.pub", ssh_dir / "authorized_keys")
    subprocess.run(["chown", "-R", f"{USER}:{USER}", str(ssh_dir)], check=True)
    os.chmod(ssh_dir / "authorized_keys", 0o600)
    port = _free_port()
    config = work / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host'}\nPidFile {work / 'sshd.pid'}\n"
                      "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                      f"AllowUsers {USER}\nAuthorizedKeysFile .ssh/authorized_keys\nLogLevel VERBOSE\n"
                      # lets a test give the deploy user's sessions a PATH (a crontab that refuses to install)
                      "PermitUserEnvironment yes\n")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config), "-E", str(work / "sshd.log")])
    # A second "host": another sshd, with another host key, for the same user (moves between hosts).
    port2 = _free_port()
    config2 = work / "sshd2_config"
    config2.write_text(config.read_text().replace(f"Port {port}\n", f"Port {port2}\n")
                       .replace(f"HostKey {work / 'host'}\n", f"HostKey {work / 'other'}\n")
                       .replace(f"PidFile {work / 'sshd.pid'}\n", f"PidFile {work / 'sshd2.pid'}\n"))
    sshd2 = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(config2), "-E", str(work / "sshd2.log")])
    crons: list[subprocess.Popen[bytes]] = []

    def keep_cron() -> None:
        # Another session may stop the cron daemon it started while ours still waits for a firing: restart it.
        if not _cron_running():
            crons.append(subprocess.Popen(["/usr/sbin/cron", "-f", "-L", "15"]))

    keep_cron()
    try:
        wait_until("sshd to listen", lambda: _port_open(port) and _port_open(port2), 15)
        os.environ[KEY_ENV] = str(work / "client")
        yield Host(port, USER, home, _pub(work / "host.pub"), work / "client", _pub(work / "other.pub"), work,
                   keep_cron, port2)
    finally:
        os.environ.pop(KEY_ENV, None)
        subprocess.run(["crontab", "-r", "-u", USER], capture_output=True)
        for proc in (sshd, sshd2, *crons):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
        _stop_user_jobs()
        subprocess.run(["userdel", "-r", USER], capture_output=True)


def _stop_user_jobs() -> None:
    """Stop jobs cron started for the test user (e.g. a 75 s run still going), each by its pid."""
    try:
        uid = pwd.getpwnam(USER).pw_uid
    except KeyError:
        return
    if uid == 0 or uid == os.getuid():  # never touch root's (or our own) processes
        return
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            owner = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
            if int(owner.split()[1]) == uid:
                os.kill(int(status.parent.name), signal.SIGKILL)
        except (OSError, StopIteration, ValueError):
            continue


def _pub(path: Path) -> str:
    return " ".join(path.read_text().split()[:2])


@pytest.fixture
def engine(onprem_host: Host) -> Iterator[Engine]:
    """Pulumi's part of `pulumi up` against the live host: the program, the SDK's dynamic-provider process."""
    started = Engine()
    try:
        yield started
    finally:
        started.close()
