"""A host with a hand-made crontab and systemd timer units, for `lockstep import` over SSH against a real sshd.

Its own sshd, user and keys (not the on-prem suite's), so that concurrent runs of both suites do not meet. systemd
does not run here: the unit files are read.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "lockstep-import"
KEY_ENV = "LOCKSTEP_IMPORT_TEST_KEY"
CRONTAB = """MAILTO=ops@example.com
# nightly backup, twice (one copy without the log)
0 2 * * * /usr/local/bin/backup.sh >>/var/log/backup.log 2>&1
0 2 * * * /usr/local/bin/backup.sh
# the same report written two ways
0 3 * * 1-5 /opt/jobs/report.sh --all
0 3 * * 1,2,3,4,5 /opt/jobs/report.sh --all
@daily /opt/jobs/rotate.sh
0 4 * * mon-fri /opt/jobs/never-installed.sh
*/10 * * * * /opt/jobs/poll.sh
@reboot /opt/jobs/warm-cache.sh
# lockstep:begin payroll-sync version=abc123
17 * * * * cd / && exec /var/lib/lockstep/payroll-sync/venv/bin/python runner.py >>run.log 2>&1
# lockstep:end payroll-sync
"""


UNITS = {  # the user's systemd units: (OnCalendar or other [Timer] lines, ExecStart, enabled)
    "report": ("OnCalendar=Mon..Fri 03:00", "/opt/jobs/report.sh --all", True),      # a third copy of the report
    "archive": ("OnCalendar=*-*-01 04:30:00", "/opt/jobs/archive.sh", True),        # unique
    "warm": ("OnBootSec=5min\nOnUnitActiveSec=1h", "/opt/jobs/warm.sh", True),     # monotonic: not a workflow
    "old-export": ("OnCalendar=daily", "/opt/jobs/export.sh", False),              # not enabled
    "lockstep-payroll-sync": ("OnCalendar=*-*-* *:17:00", "/var/lib/lockstep/runner", True),  # Lockstep's own
}


def _units(folder: Path) -> None:
    """Write the timer and service units and the enabled links; systemd does not run here, the files are read."""
    shutil.rmtree(folder, ignore_errors=True)  # a run cut short may have left them
    (folder / "timers.target.wants").mkdir(parents=True)
    for name, (timer, command, enabled) in UNITS.items():
        (folder / f"{name}.timer").write_text(f"[Unit]\nDescription={name}\n\n[Timer]\n{timer}\n\n"
                                              "[Install]\nWantedBy=timers.target\n")
        (folder / f"{name}.service").write_text(f"[Service]\nType=oneshot\nExecStart={command}\n")
        if enabled:
            (folder / "timers.target.wants" / f"{name}.timer").symlink_to(folder / f"{name}.timer")
    subprocess.run(["chown", "-R", f"{USER}:{USER}", f"/home/{USER}/.config"], check=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """Start an sshd on a free port for a throwaway user whose crontab is CRONTAB; stop it afterwards."""
    if os.geteuid() != 0 or not all(shutil.which(b) for b in ("/usr/sbin/sshd", "crontab", "ssh-keygen")):
        if os.environ.get("CI") == "true":
            pytest.fail("the on-prem import test needs root, sshd and crontab")
        pytest.skip("the on-prem import test needs root, sshd and crontab")
    work = tmp_path_factory.mktemp("import-host")
    os.chmod(work, 0o755)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True)
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    subprocess.run(["usermod", "-p", "*", USER], check=True)
    ssh = Path(f"/home/{USER}/.ssh")
    ssh.mkdir(mode=0o700, exist_ok=True)
    shutil.copy(work / "client.pub", ssh / "authorized_keys")
    subprocess.run(["chown", "-R", f"{USER}:{USER}", str(ssh)], check=True)
    subprocess.run(["crontab", "-u", USER, "-"], input=CRONTAB, text=True, check=True)
    _units(Path(f"/home/{USER}/.config/systemd/user"))
    port = _free_port()
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host'}\nPidFile {work / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"AllowUsers {USER}\nAuthorizedKeysFile .ssh/authorized_keys\n")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(work / "sshd_config"), "-E", str(work / "log")])
    try:
        deadline = time.monotonic() + 15
        while not _listening(port):
            assert time.monotonic() < deadline and sshd.poll() is None, (work / "log").read_text()
            time.sleep(0.05)
        os.environ[KEY_ENV] = str(work / "client")
        yield port, " ".join((work / "host.pub").read_text().split()[:2])
    finally:
        os.environ.pop(KEY_ENV, None)
        sshd.terminate()
        sshd.wait(timeout=10)
        subprocess.run(["crontab", "-r", "-u", USER], capture_output=True)
        subprocess.run(["userdel", "-r", USER], capture_output=True)


def onprem_config(port: int, host_key: str) -> str:
    """Return a stack file's `lockstep:onprem` section for the host (under `config:`)."""
    return (f"  lockstep:onprem:\n    privateKeyEnv: {KEY_ENV}\n    hosts:\n      - name: batch-07\n"
            f"        address: 127.0.0.1\n        port: {port}\n        user: {USER}\n        hostKey: {host_key}\n"
            "        scheduler: cron\n        timezone: Europe/Berlin\n")


def write_stack(root: Path, port: int, host_key: str) -> None:
    """Write Pulumi.imp.yaml: the host alone."""
    (root / "Pulumi.imp.yaml").write_text("config:\n" + onprem_config(port, host_key))
