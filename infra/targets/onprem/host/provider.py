"""The Pulumi dynamic provider: create / diff / update / delete / read of one workflow on one host over SSH.

Pure Python, so it runs inside the real Pulumi engine (which pickles this provider with dill): it holds no state of
its own and reads the deploy key from the environment at run time, never from props.
"""

from __future__ import annotations

import uuid
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from infra.targets.onprem.host import deploy as steps
from infra.targets.onprem.host import hostops
from infra.targets.onprem.host.deploy import StepHook
from infra.targets.onprem.host.props import REPLACE_KEYS, UPDATE_KEYS, Props, check, get
from infra.targets.onprem.host.ssh import SshSession

PROVIDER_KEY = "__provider"


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in (PROVIDER_KEY, "live", "version")}


def live_view(props: Props, state: dict[str, Any]) -> dict[str, Any] | None:
    """Turn a hostops `read` result into outputs: what the host runs now, and whether it drifted; None if gone."""
    manifest = state.get("manifest") or {}
    if not state.get("exists") or manifest.get("state") != "active":
        return None
    if props.instance and manifest.get("instance") not in (None, "", props.instance):
        return None  # a replacement (another resource instance) has taken this workflow's place over
    sched = state.get("schedule", {})
    pending = state.get("pending") or {}
    drift = hostops.schedule_drift(sched, manifest, pending)
    live_entry = sched.get("units") if sched.get("backend") == "systemd" else sched.get("blocks", [])
    return {"manifest_epoch": manifest.get("epoch"), "digest": manifest.get("digest"),
            "version": manifest.get("version"), "commit": manifest.get("commit"),
            "current": state.get("current"), "versions": state.get("versions", []),
            "schedule_lines": sched.get("lines", []), "schedule_live": live_entry,
            "schedule_expected": hostops.installed_form(manifest["schedule"]),
            "strays": sched.get("strays", []), "drift": drift is not None,
            "current_ok": state.get("current") == f"versions/{manifest.get('version')}"
            and state.get("current_complete", True) is not False,  # a deleted or damaged bundle is not healthy
            "pending": bool(pending) and pending.get("version") != manifest.get("version")}


class OnpremWorkflowProvider(ResourceProvider):
    """Manage one workflow on one on-prem host over SSH (cron or systemd)."""

    serialize_as_secret_always = False  # holds no secret: the key is read from the environment at run time

    def __init__(self, hook: StepHook | None = None, connect_timeout: float = 10.0) -> None:
        super().__init__()
        self.hook, self.connect_timeout = hook, connect_timeout

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Refuse inputs the provider cannot deploy (missing fields, key material in props)."""
        return CheckResult(news, [CheckFailure(p, r) for p, r in check(_inputs(news))])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace when the workflow moves (host, user, directory, scheduler); update when what or when changes.

        A replacement on the same host and user (another port or address for it, another base_dir or scheduler) is
        created first and takes the schedule over in the same crontab write; the old resource's delete then removes
        only what carries its own instance. A move to another host (another pinned host key) or user cannot be
        taken over from there, so the old one is deleted first: the job never runs on both.
        """
        replaces = [".".join(k) for k in REPLACE_KEYS if get(olds, k) != get(news, k)]
        moves = any(get(olds, k) != get(news, k) for k in (("host", "host_key"), ("host", "user")))
        changed = [k for k in UPDATE_KEYS if get(olds, k) != get(news, k)]
        live = olds.get("live") or {}
        drifted = bool(live.get("drift")) or live.get("current_ok") is False or live.get("digest") not in (
            None, news.get("digest"))
        return DiffResult(changes=bool(replaces or changed or drifted), replaces=replaces,
                          delete_before_replace=bool(replaces) and moves)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Deploy the workflow; creating over an existing deploy of it converges (a retried create is safe).

        An `adopt` input (the import record's crontab line) is swapped for the workflow's block in the same install;
        only a create does it: an update never touches a line that was added by hand later.
        """
        p = Props(dict(_inputs(props), instance=uuid.uuid4().hex[:16]))
        return CreateResult(p.resource_id(), self._deploy(p, previous=None, adopt=True))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Deploy the new version; the old one stays on disk as the rollback target."""
        previous = olds.get("version")
        instance = olds.get("instance") or uuid.uuid4().hex[:16]  # kept for the resource's whole life
        return UpdateResult(self._deploy(Props(dict(_inputs(news), instance=instance)), previous=previous))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Remove the schedule and versions; the tombstone manifest keeps the epoch fence."""
        p = Props(_inputs(props))
        with self._session(p) as session:
            steps.delete(session, p)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Return the live state from the host (manifest, `current`, schedule as installed) for refresh and drift."""
        p = Props(_inputs(props))
        with self._session(p) as session:
            state = steps.read(session, p)
        live = live_view(p, state)
        if live is None:
            return ReadResult("", {})
        outs = dict(_inputs(props), version=live["version"], live=live)
        return ReadResult(id_ or p.resource_id(), outs)

    def _deploy(self, p: Props, previous: str | None, adopt: bool = False) -> dict[str, Any]:
        with self._session(p) as session:
            manifest = steps.deploy(session, p, previous=previous, hook=self.hook, adopt=adopt)
            state = steps.read(session, p)
        return dict(p.raw, version=manifest["version"], live=live_view(p, state))

    def _session(self, p: Props) -> SshSession:
        return SshSession(p.conn, connect_timeout=self.connect_timeout)  # opened by `with`
