"""A TEST DOUBLE of `pulumi up`, and the reader of what it applied. Never a deployment.

`RecordingEngine` implements the Engine protocol for machines without the Pulumi CLI. `preview` runs the real
offline gate (the program under mocks, every policy) and saves a plan: the program's registrations. `up` walks that
plan restricted to the given URNs, calls the program's real lease hook (`infra.ledger.hook.callback`) before every
create, update and delete exactly where the engine would, and then:
- on-prem resources go through the real dynamic provider (`OnpremWorkflowProvider`) over the real sshd;
- cloud resources are written to a JSON record per stack (`platform/<stack>.json`), standing in for the cloud.
`RecordedReader` reads that record back as `Observed`, standing in for the cloud `read_live` readers (wire the real
ones with `infra.rollout.live.Readers`). `Faults` injects a failed apply, a crash part-way through an apply, a ghost
left behind, a live field changed after the apply, or an unreadable platform.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra.checks import validate_repo
from infra.engine.base import Verdict
from infra.engine.offline import OfflineEngine
from infra.ledger import hook
from infra.ledger.fence import Fenced
from infra.ledger.writer import LeaseCheck
from infra.model import StackConfig, Workflow
from infra.program import EPOCH_ENV
from infra.rollout import plan as planning
from infra.rollout.live import Live, Unreadable
from infra.targets.base import Observed
from infra.targets.onprem.normalize import RESOURCE as ONPREM

_GATES: dict[tuple[str, str], Verdict] = {}


class Crash(BaseException):
    """The runner dies here (not an Exception: nothing in the rollout may catch it)."""


@dataclass
class Faults:
    """What goes wrong, by URN substring or step name."""

    crash_at: str = ""            # a rollout checkpoint name
    fail_urn: str = ""            # up fails on this resource before applying it
    crash_urn: str = ""           # up applies the first resource matching this, then the runner dies (partial)
    ghost_urn: str = ""           # a rollback leaves this resource as the failed release made it
    drift: dict[str, tuple[tuple[str, ...], Any]] = field(default_factory=dict)  # urn part -> (prop path, value)
    unreadable: set[str] = field(default_factory=set)  # targets whose platform cannot be read
    release_root: Path | None = None  # the failed release's checkout: apply faults hit only its ups, ghosts only others

    def checkpoint(self, name: str) -> None:
        """Die at the named step boundary."""
        if self.crash_at and name == self.crash_at:
            raise Crash(name)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda o: f"{type(o).__name__}:{getattr(o, 'path', o)}"))


@dataclass
class RecordingEngine:
    """The Engine protocol as a test double over one checkout `root` (see the module docstring)."""

    root: Path
    platform: Path
    faults: Faults = field(default_factory=Faults)
    provider: Any = None

    def preview(self, stack: str) -> Verdict:
        """Run the offline gate once per checkout and stack; save the program's registrations as the plan."""
        key = (str(self.root.resolve()), stack)
        if key not in _GATES:
            _GATES[key] = OfflineEngine(self.root, compare=False).preview(stack)
        gate = _GATES[key]
        result = validate_repo(self.root).require_valid()
        config = result.stack(stack)
        epoch = int(os.environ.get(EPOCH_ENV, "0")) if config.onprem else 0
        cap = planning.capture(self.root, result, config, epoch)
        regs = [{"urn": r.urn, "type": r.type, "name": r.name, "custom": r.custom, "parent": r.parent,
                 "provider": r.provider.rsplit("::", 1)[0] if r.provider else "",
                 "inputs": _jsonable({k: v for k, v in r.inputs.items() if k != "__provider"})}
                for r in cap.registrations]
        plans = self.platform / "plans"
        plans.mkdir(parents=True, exist_ok=True)
        path = plans / f"{stack}-{abs(hash(key))}-{epoch}.json"
        path.write_text(json.dumps(regs, sort_keys=True))
        return Verdict(stack, "preview", findings=list(gate.findings), plan=path, error=gate.error,
                       changes=dict(gate.changes))

    def up(self, stack: str, *, urns: Any = (), plan: Path | None = None) -> Verdict:
        """Apply the plan's resources among `urns` (create/update), delete targeted ones the plan no longer has."""
        assert plan is not None, "the rollout always applies a saved plan"
        regs = json.loads(plan.read_text())
        chosen = set(urns) or {r["urn"] for r in regs}
        record = load_record(self.platform, stack)
        check = LeaseCheck.from_env()
        before = hook.callback(check) if check is not None else None
        changes = {"create": 0, "update": 0, "delete": 0, "same": 0}
        try:
            for reg in regs:
                if reg["urn"] not in chosen:
                    continue
                old = record.get(reg["urn"])
                if old is not None and old["inputs"] == reg["inputs"]:
                    changes["same"] += 1
                    continue
                if self._ghost(reg["urn"]):
                    continue  # the ghost: the rollback never touches it
                if reg["custom"] and before is not None:
                    before(pulumi.ResourceHookArgs(reg["urn"], "", reg["name"], reg["type"], new_inputs=reg["inputs"],
                                                   old_inputs=old["inputs"] if old else None))
                if self._faulty() and self.faults.fail_urn and self.faults.fail_urn in reg["urn"]:
                    return Verdict(stack, "up", plan=plan, error=f"creating {reg['urn']}: injected failure",
                                   changes=changes)
                record[reg["urn"]] = self._apply(reg, old)
                changes["update" if old else "create"] += 1
                save_record(self.platform, stack, record)
                if self._faulty() and self.faults.crash_urn and self.faults.crash_urn in reg["urn"]:
                    raise Crash(f"mid-apply, after {reg['urn']}")
            planned = {r["urn"] for r in regs}
            for urn in [u for u in record if u in chosen and u not in planned]:
                if self._ghost(urn):
                    continue
                if record[urn]["custom"] and before is not None:
                    before(pulumi.ResourceHookArgs(urn, "", record[urn]["name"], record[urn]["type"],
                                                   old_inputs=record[urn]["inputs"]))
                self._delete(record.pop(urn))
                changes["delete"] += 1
                save_record(self.platform, stack, record)
        except Fenced as exc:  # what `pulumi up` reports when a before_* hook raises
            return Verdict(stack, "up", plan=plan, error=str(exc), changes=changes)
        for part, (path, value) in (self.faults.drift if self._faulty() else {}).items():
            for urn, res in record.items():
                if part in urn:
                    _set(res["inputs"], path, value)
        save_record(self.platform, stack, record)
        return Verdict(stack, "up", plan=plan, changes={k: v for k, v in changes.items() if v})

    def refresh(self, stack: str, *, urns: Any = ()) -> Verdict:
        """Nothing to refresh: the record is the platform."""
        return Verdict(stack, "refresh")

    def outputs(self, stack: str) -> dict[str, Any]:
        """Return no outputs."""
        return {}

    def _faulty(self) -> bool:
        return self.faults.release_root is None or self.root.resolve() == self.faults.release_root.resolve()

    def _ghost(self, urn: str) -> bool:
        return bool(self.faults.ghost_urn) and self.faults.ghost_urn in urn and not self._faulty()

    def _apply(self, reg: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        if reg["type"] != ONPREM:
            return dict(reg)
        from infra.targets.onprem.host.provider import OnpremWorkflowProvider

        provider = self.provider or OnpremWorkflowProvider()
        if old is None:
            made = provider.create(reg["inputs"])
            return {**reg, "id": made.id, "outs": _jsonable(made.outs)}
        updated = provider.update(old["id"], old["outs"], reg["inputs"])
        return {**reg, "id": old["id"], "outs": _jsonable(updated.outs)}

    def _delete(self, res: dict[str, Any]) -> None:
        if res["type"] == ONPREM:
            from infra.targets.onprem.host.provider import OnpremWorkflowProvider

            (self.provider or OnpremWorkflowProvider()).delete(res["id"], res["outs"])


def _set(props: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        props = props.setdefault(key, {})
    props[path[-1]] = value


def load_record(platform: Path, stack: str) -> dict[str, Any]:
    """Return the double's record of what is applied to a stack (URN -> registration)."""
    path = platform / f"{stack}.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def save_record(platform: Path, stack: str, record: dict[str, Any]) -> None:
    """Write the record atomically."""
    platform.mkdir(parents=True, exist_ok=True)
    tmp = platform / f".{stack}.json.tmp"
    tmp.write_text(json.dumps(record, sort_keys=True))
    tmp.replace(platform / f"{stack}.json")


@dataclass
class RecordedReader:
    """TEST DOUBLE of the cloud live readers: the engine double's record, grouped per (workflow, target)."""

    platform: Path
    faults: Faults = field(default_factory=Faults)

    def read(self, stack: StackConfig, wf: Workflow, target: str) -> Live | Unreadable:
        """Return the recorded resources of one workflow on one target (and their provider)."""
        if target in self.faults.unreadable:
            return Unreadable(f"{target} API unavailable (injected)")
        record = load_record(self.platform, stack.name)
        observed: list[Observed] = []
        for urn, res in record.items():
            if res["custom"] and owner(record, urn) == (wf.name, target):
                observed.append(Observed(res["type"], res["name"], res["inputs"]))
                prov = record.get(res.get("provider", ""))
                if prov is not None and not any(o.type == prov["type"] for o in observed):
                    observed.append(Observed(prov["type"], prov["name"], prov["inputs"]))
        return Live(tuple(observed))


def owner(record: dict[str, Any], urn: str) -> tuple[str, str] | None:
    """Return (workflow, target) a recorded resource belongs to, from its parents."""
    node = record.get(urn)
    while node is not None:
        parent = record.get(node["parent"])
        if node["type"].startswith("lockstep:") and node["type"] != planning.WORKFLOW_TYPE and parent is not None \
                and parent["type"] == planning.WORKFLOW_TYPE:
            return parent["name"], node["type"].split(":")[1]
        node = parent
    return None
