"""What one deploy writes: the version's files (bundle, runner, canonical.py, config.json), their content digest,
the schedule entry, and the manifest that `read` returns for refresh and drift detection.
"""

from __future__ import annotations

import base64
import datetime as dt
import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.digest import code_digest, code_files
from infra.schedule.hostform import HostForm, host_form
from infra.targets.onprem.host import crontab, systemd
from infra.targets.onprem.host.layout import safe_path
from infra.targets.onprem.host.props import Props

MANIFEST_SCHEMA = 1
DEPLOYER_ENV = "LOCKSTEP_DEPLOYER"
HERE = Path(__file__).resolve().parent
CANONICAL_SOURCE = HERE.parents[2] / "schedule" / "canonical.py"


class BundleChanged(Exception):
    """The function directory no longer hashes to the digest the plan was made with."""


@dataclass(frozen=True)
class Plan:
    """Everything one deploy writes to a host, computed locally before any write."""

    version: str
    files: dict[str, str]  # relative path -> base64 content
    schedule: dict[str, Any]
    manifest: dict[str, Any]


def deployer_identity() -> str:
    """Return who deploys: $LOCKSTEP_DEPLOYER (the rollout names its runner), else user@machine."""
    return os.environ.get(DEPLOYER_ENV) or f"{getpass.getuser()}@{socket.gethostname()}"


def notify_targets(canonical: dict[str, Any]) -> list[dict[str, str]]:
    """Turn the canonical notify list ("mailto:a@b", "webhook:secret:NAME") into the runner's targets."""
    targets = []
    for item in canonical.get("notify", []):
        if item.startswith("mailto:"):
            targets.append({"kind": "email", "address": item[len("mailto:"):]})
        elif item.startswith("webhook:secret:"):
            targets.append({"kind": "webhook", "secret": item[len("webhook:secret:"):]})
    return targets


def host_schedule(props: Props) -> HostForm:
    """Return the schedule form this host gets (the same `host_form` that translate and schedule check use)."""
    c, h = props.raw["canonical"]["schedule"], props.host
    return host_form(c["kind"], c["expression"], c["timezone"], c.get("start"), c.get("end"), str(h["scheduler"]),
                     str(h["timezone"]))


def runner_config(props: Props) -> dict[str, Any]:
    """Return config.json for the runner: the canonical run semantics (the guard) plus this host's paths."""
    c = props.raw["canonical"]
    fn = c["function"]
    return {"workflow": props.name, "digest": props.raw["digest"], "schedule": host_schedule(props).guard,
            "entry": fn["entry"],
            "runtime": fn["runtime"], "env": fn["env"], "secrets": fn["secrets"], "retry": c["retry"],
            "timeout_s": c["timeout_s"], "allow_overlap": c["allow_overlap"], "notify": notify_targets(c),
            "memory_mb": props.raw.get("memory_mb"), "paths": props.layout.as_dict(), "log_skips": True}


def version_files(props: Props) -> dict[str, bytes]:
    """Return the files of the version directory, after checking the bundle still has its digest."""
    bundle = Path(props.raw["bundle"]["dir"])
    if not bundle.is_dir():
        raise BundleChanged(f"the function directory {bundle} does not exist on the deploying machine")
    links = symlinks(bundle)
    if links:
        raise BundleChanged(f"the function directory {bundle} holds symbolic link(s) {', '.join(links)}; a link "
                            "would upload whatever it points at (a file outside the repository, such as the "
                            "deployer's credentials): replace each link with the file itself")
    if code_digest(bundle) != props.raw["bundle"]["digest"]:
        raise BundleChanged(f"the function directory {bundle} changed since its digest "
                            f"{props.raw['bundle']['digest'][:12]}... was computed; re-run the pipeline")
    files = {f"app/{p.relative_to(bundle).as_posix()}": p.read_bytes() for p in code_files(bundle)}
    files[".lockstep/runner.py"] = (HERE / "runner.py").read_bytes()
    files[".lockstep/runkit.py"] = (HERE / "runkit.py").read_bytes()
    files[".lockstep/canonical.py"] = CANONICAL_SOURCE.read_bytes()
    files[".lockstep/config.json"] = json.dumps(runner_config(props), indent=1, sort_keys=True).encode()
    return files


def symlinks(root: Path) -> list[str]:
    """Return the relative paths of the symbolic links anywhere under root (files and directories)."""
    found = []
    for here, dirs, files in os.walk(root, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(here) / name
            if path.is_symlink():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def content_version(files: dict[str, bytes]) -> str:
    """Return the 32-hex content digest naming the version directory (paths and bytes of every file)."""
    outer = hashlib.sha256()
    for rel in sorted(files):
        outer.update(f"{rel}\0{hashlib.sha256(files[rel]).hexdigest()}\n".encode())
    return outer.hexdigest()[:32]


def schedule_entry(props: Props, version: str, python: str) -> dict[str, Any]:
    """Render the schedule for the host's scheduler: a marked crontab block or a systemd unit pair."""
    h, lay, form = props.host, props.layout, host_schedule(props)
    safe_path("python", python)  # the host's interpreter path is written into the crontab line or unit
    lay.version_dir(version)
    if form.scheduler == "systemd":
        plan = systemd.unit_plan(props.name, root_user=h["user"] == "root")
        return {"backend": "systemd", "minute_field": form.minute_field, "on_calendar": form.expression,
                "unit_dir": plan.unit_dir, "user_mode": plan.user_mode, "timer": plan.timer, "unit_names": plan.names,
                "units": systemd.render_units(lay, version, form.expression, python, plan, props.instance)}
    block = crontab.render_block(props.name, version, form.minute_field, python, lay.runner, lay.path("cron.log"),
                                 props.instance)
    return {"backend": "cron", "minute_field": form.minute_field, "block": block}


def build_plan(props: Props, python: str) -> Plan:
    """Compute the version, files, schedule entry and manifest of a deploy (no I/O on the host)."""
    raw = {rel: data for rel, data in version_files(props).items()}
    version = content_version(raw)
    schedule = schedule_entry(props, version, python)
    manifest = {
        "schema": MANIFEST_SCHEMA, "state": "active", "workflow": props.name, "digest": props.raw["digest"],
        "instance": props.instance,
        "version": version, "epoch": props.epoch, "commit": props.raw.get("commit", "uncommitted"),
        "canonical": props.raw["canonical"], "bundle_digest": props.raw["bundle"]["digest"],
        "memory_mb": props.raw.get("memory_mb"), "host": {k: props.host.get(k) for k in ("name", "timezone",
                                                                                          "scheduler")},
        "schedule": schedule, "stamps": props.raw.get("stamps", {}),
        "deployed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "deployed_by": deployer_identity(),
    }
    files = {rel: base64.b64encode(data).decode() for rel, data in raw.items()}
    return Plan(version, files, schedule, manifest)
