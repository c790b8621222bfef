"""The dynamic resource's inputs: plain, picklable JSON data built from the canonical model by `props_for`.

The bundle travels as a local directory path plus its content digest, not as file contents: state stays small, no
code is copied into Pulumi state, and the provider re-hashes the directory before uploading and refuses if it no
longer matches the digest the plan was made with (so what was previewed is what lands on the host).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.digest import canonical_fields
from infra.model import OnpremHost, Workflow
from infra.stamps import identity, with_commit
from infra.targets.onprem.host.layout import Layout, UnsafeValue
from infra.targets.onprem.host.ssh import HostConn, OnpremError
from infra.targets.onprem.translate import OnpremDesired, from_spec

SCHEMA = "1"
# A change of any of these puts the workflow somewhere else: replace (create there, then delete here).
REPLACE_KEYS = (("host", "address"), ("host", "port"), ("host", "user"), ("host", "base_dir"), ("host", "scheduler"),
                ("canonical", "name"))
# A change of any of these changes what runs or when: update in place.
UPDATE_KEYS = (("digest",), ("bundle", "digest"), ("canonical",), ("memory_mb",), ("host", "timezone"), ("commit",))
# Read by the create only (the crontab line it adopts): neither an update nor a replace.
CREATE_ONLY_KEYS = ("adopt",)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def props_for(workflow: Workflow, host: OnpremHost, epoch: int, commit: str, *,
              private_key_env: str = "LOCKSTEP_ONPREM_KEY", repo_root: Path | None = None,
              on_drift: str = "refuse") -> dict[str, Any]:
    """Return the OnpremWorkflow inputs for one workflow on one host, deployed by a deployer holding `epoch`."""
    memory = workflow.local("onprem", "memory_mb")
    desired = from_spec(canonical_fields(workflow), {"name": host.name, "address": host.address,
                                                      "scheduler": host.scheduler, "timezone": host.timezone},
                        memory if isinstance(memory, int) else workflow.function.memory_mb, workflow.code_digest,
                        identity(workflow, "onprem"))
    source = ((repo_root or Path.cwd()) / workflow.function.source).resolve()
    return props_from(desired, host, source, epoch, commit, private_key_env=private_key_env, on_drift=on_drift)


def props_from(desired: OnpremDesired, host: OnpremHost, source: Path, epoch: int, commit: str, *,
               private_key_env: str = "LOCKSTEP_ONPREM_KEY", on_drift: str = "refuse",
               adopt: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the OnpremWorkflow inputs that deploy a desired state; `host` adds only how to reach the host.

    `adopt` ({"id", "line"}, from the workflow's import record) names the crontab line the create swaps for the
    workflow's block; the line is kept as its digest only.
    """
    if on_drift not in ("refuse", "revert"):
        raise ValueError(f"on_drift {on_drift!r} must be 'refuse' or 'revert'")
    return {**({"adopt": {"id": adopt["id"], "line": adopt["line"]}} if adopt else {}),
        "host": {"name": desired.host, "address": desired.address, "port": host.port, "user": host.user,
                 "host_key": host.host_key, "scheduler": desired.scheduler, "timezone": desired.host_timezone,
                 "base_dir": host.base_dir},
        "private_key": {"env": private_key_env},
        "canonical": dict(desired.spec),
        "digest": desired.stamps["lockstep-digest"],
        "bundle": {"dir": str(source), "digest": desired.code_digest},
        "memory_mb": desired.memory_mb,
        "epoch": int(epoch),
        "commit": commit,
        "on_drift": on_drift,
        "stamps": with_commit(desired.stamps, commit),
    }


@dataclass(frozen=True)
class Props:
    """A typed view of the inputs, for the provider's own use."""

    raw: dict[str, Any]

    @property
    def name(self) -> str:
        """Return the workflow name."""
        return str(self.raw["canonical"]["name"])

    @property
    def host(self) -> dict[str, Any]:
        """Return the host settings."""
        return dict(self.raw["host"])

    @property
    def instance(self) -> str:
        """Return the resource's identity on the host ('' for resources created before it was kept)."""
        return str(self.raw.get("instance") or "")

    @property
    def epoch(self) -> int:
        """Return the deployer's epoch (the fencing token)."""
        return int(self.raw["epoch"])

    @property
    def layout(self) -> Layout:
        """Return the host paths of this workflow; an unsafe base_dir or name is an error naming host and step."""
        try:
            return Layout(str(self.host.get("base_dir") or "/var/lib/lockstep"), self.name)
        except UnsafeValue as exc:
            raise OnpremError(self.conn.label, "plan", str(exc)) from exc

    @property
    def conn(self) -> HostConn:
        """Return how to reach the host."""
        h = self.host
        return HostConn(str(h["address"]), int(h.get("port") or 22), str(h["user"]), str(h["host_key"]),
                        dict(self.raw["private_key"]))

    def resource_id(self) -> str:
        """Return the resource id: the workflow's directory on its host."""
        return f"{self.conn.user}@{self.conn.address}:{self.conn.port}:{self.layout.root}"


def get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    """Return a nested value, or None when any key on the way is missing."""
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def check(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (property, reason) pairs for inputs the provider cannot work with."""
    failures = []
    for path in (("host", "address"), ("host", "user"), ("host", "host_key"), ("host", "timezone"),
                 ("canonical", "name"), ("digest",), ("bundle", "dir"), ("bundle", "digest"), ("epoch",)):
        if get(raw, path) in (None, ""):
            failures.append((".".join(path), "is required"))
    if "key" in raw.get("private_key", {}) or "material" in raw.get("private_key", {}):
        failures.append(("private_key", "must name a path or an environment variable, never hold the key"))
    try:
        Layout(str(get(raw, ("host", "base_dir")) or "/var/lib/lockstep"), str(get(raw, ("canonical", "name"))))
    except UnsafeValue as exc:
        failures.append(("host.base_dir", str(exc)))
    if get(raw, ("host", "scheduler")) not in ("cron", "systemd"):
        failures.append(("host.scheduler", "must be 'cron' or 'systemd'"))
    adopt = raw.get("adopt")
    if adopt is not None and not (isinstance(adopt, dict) and adopt.get("id")
                                  and SHA256.match(str(adopt.get("line", "")))):
        failures.append(("adopt", "must be {id, line: the sha256 of the adopted crontab line}"))
    elif adopt is not None and get(raw, ("host", "scheduler")) != "cron":
        failures.append(("adopt", "an adopted crontab line needs the host's scheduler to be cron"))
    return failures
