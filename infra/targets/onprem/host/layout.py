"""Where things live on an on-prem host: one directory per workflow under the base directory.

    <base>/workflows/<name>/
        versions/<version>/app/          the function bundle (content-addressed: <version> hashes everything below)
        versions/<version>/.lockstep/    runner.py, canonical.py, config.json
        current -> versions/<version>    switched atomically (symlink to a temp name, then rename over `current`)
        manifest.json                    what is deployed: canonical fields, digests, epoch (the fence)
        manifest.pending.json            intent written before a switch, so a retry knows its own half-done write
        epoch.json                       the highest deployer epoch ever accepted (the fence), written first
        .deploy.lock                     flock(2) lock every mutation holds (so does `flock` for an operator)
        .run.lock                        the runner's no-overlap lock
        runs.jsonl  notify.jsonl  drift.jsonl  cron.log
    <base>/secrets/<name>/<ref>          the workflow's secret values (0700 / 0600), provisioned out of band
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from infra.fields import is_safe_path

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
VERSION_RE = re.compile(r"^[0-9a-f]{32}$")
# Every path that reaches a crontab line or a unit file: no whitespace or newline (a new crontab line or unit
# directive), no '%' (cron and systemd expand it), no quotes, '$' or ';' (a shell or an ExecStart would read them).


class UnsafeValue(ValueError):
    """A value that would reach a crontab line or a systemd unit and could change what it runs."""


def safe_path(what: str, value: str) -> str:
    """Return value if it is an absolute path of [A-Za-z0-9._/-] without a '..' segment; raise UnsafeValue."""
    if not is_safe_path(value):
        raise UnsafeValue(f"{what} {value!r} must be an absolute path of letters, digits and . _ / - only, without "
                          "'..' (it is written into the crontab line or systemd unit, where a newline, space or '%' "
                          "would change what runs); choose such a path")
    return value


@dataclass(frozen=True)
class Layout:
    """The host paths of one workflow."""

    base_dir: str
    workflow: str

    def __post_init__(self) -> None:
        if not NAME_RE.fullmatch(self.workflow):
            raise UnsafeValue(f"workflow name {self.workflow!r} is not DNS-safe; it names a directory on the host")
        safe_path("base_dir", self.base_dir)

    @property
    def root(self) -> str:
        """Return the workflow's directory."""
        return posixpath.join(self.base_dir, "workflows", self.workflow)

    def path(self, *parts: str) -> str:
        """Return a path inside the workflow's directory."""
        return posixpath.join(self.root, *parts)

    def version_dir(self, version: str) -> str:
        """Return the directory of one content-addressed version."""
        if not VERSION_RE.fullmatch(version):
            raise ValueError(f"version {version!r} is not a 32-hex content digest")
        return self.path("versions", version)

    @property
    def current(self) -> str:
        """Return the symlink naming the active version."""
        return self.path("current")

    @property
    def runner(self) -> str:
        """Return the runner path the schedule invokes (through `current`, so a switch is one rename)."""
        return self.path("current", ".lockstep", "runner.py")

    @property
    def secrets_dir(self) -> str:
        """Return this workflow's secret directory: its secrets are given to it alone (0700, files 0600)."""
        return posixpath.join(self.base_dir, "secrets", self.workflow)

    def as_dict(self) -> dict[str, str]:
        """Return the paths the host-side scripts need, as plain JSON data."""
        return {
            "base_dir": self.base_dir, "workflow": self.workflow, "root": self.root,
            "versions": self.path("versions"), "current": self.current, "runner": self.runner,
            "manifest": self.path("manifest.json"), "pending": self.path("manifest.pending.json"),
            "epoch": self.path("epoch.json"),
            "deploy_lock": self.path(".deploy.lock"), "run_lock": self.path(".run.lock"),
            "runs_log": self.path("runs.jsonl"), "notify_spool": self.path("notify.jsonl"),
            "drift_log": self.path("drift.jsonl"), "cron_log": self.path("cron.log"),
            "secrets_dir": self.secrets_dir,
        }
