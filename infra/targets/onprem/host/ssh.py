"""SSH transport for the on-prem target: the host key is pinned from stack config, never learned on first use.

Every failure becomes an OnpremError naming the host and the step (connect, host-key, auth, or the deploy step
whose command was running), so a deploy log says where it stopped and what to do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
from dataclasses import dataclass
from typing import Any

import paramiko

from infra import redact
from infra.errors import LockstepError

KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


class OnpremError(LockstepError):
    """An on-prem deploy step failed; the message names host, step and what to do."""

    def __init__(self, host: str, step: str, message: str) -> None:
        self.host, self.step = host, step
        super().__init__(f"on-prem host {host}: step {step}: {message}")


class FencedError(OnpremError):
    """A write carried an epoch older than the host's manifest: a newer deployer owns this workflow."""


class DriftRefused(OnpremError):
    """The host's schedule was edited outside Lockstep and the deploy would have reverted it silently."""


@dataclass(frozen=True)
class HostConn:
    """How to reach one host: address, port, user, the pinned host key line and where the private key comes from."""

    address: str
    port: int
    user: str
    host_key: str
    key_ref: dict[str, str]

    @property
    def label(self) -> str:
        """Return `user@address:port` for messages."""
        return f"{self.user}@{self.address}:{self.port}"


def pinned_key(conn: HostConn) -> tuple[str, paramiko.PKey]:
    """Parse the pinned host key line ("ssh-ed25519 AAAA...") into its type and key."""
    parts = conn.host_key.split()
    try:
        return parts[0], paramiko.PKey.from_type_string(parts[0], base64.b64decode(parts[1], validate=True))
    except (IndexError, ValueError, binascii.Error, paramiko.SSHException) as exc:
        raise OnpremError(conn.label, "host-key", f"the pinned host key {conn.host_key[:40]!r}... is not a valid "
                          "'<type> <base64>' line; paste it from `ssh-keyscan` checked out of band") from exc


def load_private_key(conn: HostConn) -> paramiko.PKey:
    """Load the deploy key named by the key reference: a path, or an env var holding a path or the key itself."""
    ref = conn.key_ref
    if "env" in ref:
        value = os.environ.get(ref["env"])
        if not value:
            raise OnpremError(conn.label, "auth", f"environment variable {ref['env']} is not set; set it to the "
                              "path of the deploy key (the key never goes in config or state)")
    else:
        value = ref.get("path", "")
    text = value if value.lstrip().startswith("-----BEGIN") else None
    if text is None:
        text = _read_key_file(conn, value, ref.get("env"))
    for cls in KEY_CLASSES:
        try:
            return cls.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError):
            continue
    raise OnpremError(conn.label, "auth", "the deploy key is not an unencrypted ed25519, ecdsa or rsa private key")


def _read_key_file(conn: HostConn, value: str, env: str | None) -> str:
    """Read the deploy key file, refusing one that other users can read; never echo a value that is not a path."""
    where = f"environment variable {env}" if env else "the key path"
    if "\n" in value or len(value) > 512 or "KEY" in value or not value.strip():
        raise OnpremError(conn.label, "auth", f"{where} holds neither a readable file path nor a PEM private key "
                          "(the value is not shown: it may be key material); set it to the key file's path")
    path = os.path.expanduser(value)
    try:
        mode = os.stat(path).st_mode
        with open(path) as fh:
            text = fh.read()
    except OSError as exc:
        shown = redact.shown_path(value)  # a key body pasted on one line is no path: never echo it
        raise OnpremError(conn.label, "auth", f"cannot read the deploy key file {shown!r} (from {where}): "
                          f"{exc.strerror}") from exc
    if mode & 0o077:
        raise OnpremError(conn.label, "auth", f"the deploy key file {value!r} is readable by other users (mode "
                          f"{mode & 0o777:03o}); run chmod 600 {value} (ssh refuses such a key too)")
    return text


class SshSession:
    """One authenticated SSH connection to a host with a pinned host key."""

    def __init__(self, conn: HostConn, connect_timeout: float = 10.0, command_timeout: float = 300.0) -> None:
        self.conn = conn
        self.connect_timeout, self.command_timeout = connect_timeout, command_timeout
        self.client: paramiko.SSHClient | None = None

    def __enter__(self) -> SshSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect and authenticate, refusing any host key but the pinned one."""
        conn, label = self.conn, self.conn.label
        key_type, host_key = pinned_key(conn)
        private = load_private_key(conn)
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        entry = conn.address if conn.port == 22 else f"[{conn.address}]:{conn.port}"
        client.get_host_keys().add(entry, key_type, host_key)
        try:
            client.connect(conn.address, conn.port, conn.user, pkey=private, allow_agent=False, look_for_keys=False,
                           timeout=self.connect_timeout, banner_timeout=self.connect_timeout,
                           auth_timeout=self.connect_timeout)
        except paramiko.BadHostKeyException as exc:
            raise OnpremError(label, "host-key", f"the host presented {exc.key.get_name()} key "
                              f"{_fingerprint(exc.key)} but config pins {_fingerprint(host_key)}; refusing to "
                              "connect (a re-keyed host or a man in the middle): verify the key out of band and "
                              "update hostKey in the stack config") from exc
        except paramiko.AuthenticationException as exc:
            raise OnpremError(label, "auth", f"the host refused the deploy key for user {conn.user!r} "
                              f"(permission denied: {exc}); add its public key to that user's authorized_keys") from exc
        except paramiko.SSHException as exc:
            step = "host-key" if "known_hosts" in str(exc) else "connect"
            raise OnpremError(label, step, f"SSH negotiation failed: {exc}; check that the host offers the "
                              "pinned key type and that the address is an SSH server") from exc
        except TimeoutError as exc:
            raise OnpremError(label, "connect", f"timed out after {self.connect_timeout:.0f} s; the host is "
                              "unreachable (down, firewalled or the wrong address)") from exc
        except OSError as exc:
            raise OnpremError(label, "connect", f"cannot connect: {exc}; the host is unreachable or sshd is not "
                              "listening on that port") from exc
        self.client = client

    def run(self, step: str, command: str, stdin: bytes = b"", timeout: float | None = None) -> tuple[int, str, str]:
        """Run a command, feed it stdin, and return (exit code, stdout, stderr); a lost connection names the step."""
        if self.client is None or self.client.get_transport() is None:
            raise OnpremError(self.conn.label, step, "not connected (the connection was closed before this step)")
        transport = self.client.get_transport()
        assert transport is not None
        try:
            chan = transport.open_session(timeout=self.connect_timeout)
            chan.settimeout(timeout or self.command_timeout)
            chan.exec_command(command)
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            out = _read_all(chan.recv)
            err = _read_all(chan.recv_stderr)
            code = chan.recv_exit_status()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise OnpremError(self.conn.label, step, f"the connection was lost while the step ran ({exc or 'EOF'}); "
                              "the previous version stays active; retry the deploy (every step is idempotent)") \
                from exc
        if code == -1:
            raise OnpremError(self.conn.label, step, "the connection closed before the command reported its exit "
                              "status; retry the deploy (every step is idempotent)")
        return code, out.decode(errors="replace"), err.decode(errors="replace")

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    def drop(self) -> None:
        """Cut the transport without a goodbye, as a network failure would (used to test retries)."""
        transport = self.client.get_transport() if self.client else None
        if transport is not None:
            transport.sock.close()


def _read_all(recv: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        data = recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def _fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
