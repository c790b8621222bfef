"""How verification reads what is live: one small protocol, and the on-prem reader over SSH.

`LiveReader.read(stack, workflow, target)` returns the workflow's resources on that target as `Observed` (the same
shape the normalizers read from registrations), or `Unreadable(why)`. The cloud readers (`infra/targets/<t>/live.py`,
`read_live` through boto3 / google-cloud / azure-mgmt) plug in through `DriftReader` in `Readers(by_target={...})`;
a target without a reader, or whose read fails, is Unreadable, so its verification is inconclusive, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from infra.model import StackConfig, Workflow
from infra.targets.base import Observed
from infra.targets.onprem.normalize import RESOURCE as ONPREM_RESOURCE


@dataclass(frozen=True)
class Unreadable:
    """The platform could not be read (API error, host unreachable, no reader): verification is inconclusive."""

    why: str


@dataclass(frozen=True)
class Live:
    """What one workflow has live on one target, and anything the reader found wrong beyond its properties."""

    observed: tuple[Observed, ...]
    problems: tuple[str, ...] = ()


class LiveReader(Protocol):
    """Read one workflow's live resources on one target of a stack."""

    def read(self, stack: StackConfig, wf: Workflow, target: str) -> Live | Unreadable:
        """Return the live resources (empty when none exist), or why they cannot be read."""
        ...


@dataclass
class Readers:
    """One reader per target; a target without one reads as Unreadable."""

    by_target: Mapping[str, LiveReader] = field(default_factory=dict)

    def read(self, stack: StackConfig, wf: Workflow, target: str) -> Live | Unreadable:
        """Read through the target's reader."""
        reader = self.by_target.get(target)
        if reader is None:
            return Unreadable(f"no live reader for {target} is wired in this build (infra/targets/{target}/live.py)")
        return reader.read(stack, wf, target)


@dataclass
class OnpremReader:
    """Read a workflow from its host over SSH: the manifest the deploy wrote, and the schedule as installed."""

    root: Path

    def read(self, stack: StackConfig, wf: Workflow, target: str) -> Live | Unreadable:
        """Return the host's deployed form of the workflow (from its manifest), with drift as a problem."""
        from infra.targets.onprem.host import deploy, hostops
        from infra.targets.onprem.host.props import Props, props_from
        from infra.targets.onprem.host.ssh import OnpremError, SshSession
        from infra.targets.onprem.translate import host_of, translate

        assert stack.onprem is not None
        host = host_of(wf, stack)
        props = Props(props_from(translate(wf, stack).desired, host, (self.root / wf.function.source).resolve(), 0,
                                 "uncommitted", private_key_env=stack.onprem.private_key_env))
        try:
            with SshSession(props.conn, connect_timeout=10.0) as session:
                state = deploy.read(session, props)
        except (OnpremError, OSError) as exc:
            return Unreadable(f"host {host.name}: {exc}")
        manifest = state.get("manifest") or {}
        if not state.get("exists") or manifest.get("state") != "active":
            return Live(())
        problems = []
        if hostops.schedule_drift(state.get("schedule", {}), manifest, state.get("pending") or {}) is not None:
            problems.append(f"the schedule installed on {host.name} is not the one its manifest records")
        if state.get("current") != f"versions/{manifest.get('version')}":
            problems.append(f"`current` on {host.name} does not point at the manifest's version")
        canonical = dict(manifest.get("canonical") or {})
        if isinstance(canonical.get("schedule"), dict):  # the engine's serialization drops null keys; absent = none
            canonical["schedule"] = {"start": None, "end": None, **canonical["schedule"]}
        seen = {**props.raw["host"], **{k: v for k, v in (manifest.get("host") or {}).items() if v is not None}}
        observed = Observed(ONPREM_RESOURCE, f"{wf.name}-{host.name}", {
            "host": seen, "canonical": canonical, "memory_mb": manifest.get("memory_mb"),
            "bundle": {"digest": manifest.get("bundle_digest")}, "stamps": manifest.get("stamps") or {},
            "epoch": manifest.get("epoch"), "commit": manifest.get("commit")})
        return Live((observed,), tuple(problems))


@dataclass
class DriftReader:
    """A cloud target's `read_live` (infra/targets/<t>/live.py, the drift stage's readers) as a LiveReader."""

    root: Path

    def read(self, stack: StackConfig, wf: Workflow, target: str) -> Live | Unreadable:
        """Read one workflow through the target's vendor SDK; any failure is Unreadable (inconclusive)."""
        from infra import imports
        from infra.drift.collect import connect_from_env, reader
        from infra.targets.liveread import Wanted
        from infra.targets.registry import TARGETS

        desired = TARGETS[target].translate(wf, stack).desired
        try:
            package = None
            if target == "aws":  # the platform reports the package hash: compare it with what the program deploys
                from infra.bundle import bundle
                package = bundle(wf, self.root, target).sha256_b64
            live = imports.children(self.root, wf.location.path, stack.name, target)  # adopted: live names
            got = reader(target)(stack, {wf.name: Wanted(wf.name, desired, package, live)}, connect_from_env(target))
        except Exception as exc:
            return Unreadable(f"{target} reader failed: {type(exc).__name__}: {exc}")
        if got.error or wf.name in got.unreadable:
            return Unreadable(got.error or got.unreadable[wf.name])
        if wf.name in got.missing:
            return Live(())
        return Live(tuple(got.resources.get(wf.name, [])))
