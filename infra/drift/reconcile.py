"""Capture drift as incidents, never revert it silently: record, keep across runs, resolve by adopt or revert.

An incident is keyed by (stack, workflow, target, field) and remembers when it was first seen. It stays open until
`lockstep drift adopt` writes the live value into the workflow file (git becomes the truth) or `lockstep drift
revert` records the decision to redeploy git's value; a revert closes when a later run sees git's value live again.
If git's value comes back without either decision (a deploy overwrote the emergency fix), the incident stays open
and says so. Until the deployment ledger exists, incidents are JSON files behind `IncidentStore`, which the ledger
will implement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from infra.drift.compare import Finding
from infra.errors import LockstepError

STATES = ("open", "break-glass", "revert-requested", "overwritten", "adopted", "reverted")
OPEN_STATES = ("open", "break-glass", "revert-requested", "overwritten")
RECORDED_KINDS = ("field", "cross-target", "missing", "unmanaged")


@dataclass(frozen=True)
class Incident:
    """One out-of-band difference, from first sight to its resolution."""

    id: str
    stack: str
    workflow: str
    target: str
    kind: str
    canonical: str
    attribute: str
    desired: Any
    live: Any
    cause: str
    first_seen: str
    last_seen: str
    state: str = "open"
    first_diverging: str = ""
    changed_by: str = ""      # who changed it, where the platform's audit source says so ("" when unknown)
    changed_by_note: str = ""  # the audit source's operation and instant, or why changed_by is empty
    history: tuple[dict[str, str], ...] = field(default=())

    def with_event(self, state: str, now: str, note: str) -> Incident:
        """Return the incident in a new state, with the transition appended to its history."""
        return replace(self, state=state, last_seen=now, history=(*self.history, {"at": now, "state": state,
                                                                                   "note": note}))


class IncidentStore(Protocol):
    """Where incidents live: JSON files today, ledger entries once the ledger exists."""

    def all(self) -> list[Incident]:
        """Return every incident of the stack."""
        ...

    def get(self, incident_id: str) -> Incident | None:
        """Return one incident, or None."""
        ...

    def put(self, incident: Incident) -> None:
        """Write an incident (create or replace)."""
        ...


class JsonIncidentStore:
    """One JSON file per incident under <dir>/<stack>/ (default .lockstep/drift; $LOCKSTEP_DRIFT_DIR overrides)."""

    def __init__(self, root: Path, stack: str) -> None:
        base = Path(os.environ.get("LOCKSTEP_DRIFT_DIR") or root / ".lockstep" / "drift")
        self.dir = base / stack

    def all(self) -> list[Incident]:
        """Return every incident, oldest first."""
        if not self.dir.is_dir():
            return []
        found = [self._load(p) for p in sorted(self.dir.glob("*.json"))]
        return sorted(found, key=lambda i: (i.first_seen, i.id))

    def get(self, incident_id: str) -> Incident | None:
        """Return one incident by its id (or a unique prefix of it)."""
        matches = [i for i in self.all() if i.id.startswith(incident_id)] if incident_id else []
        return matches[0] if len(matches) == 1 else None

    def put(self, incident: Incident) -> None:
        """Write one incident atomically."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{incident.id}.json"
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(asdict(incident), indent=1, sort_keys=True, default=str) + "\n")
        os.replace(partial, path)

    def _load(self, path: Path) -> Incident:
        data = json.loads(path.read_text())
        data["history"] = tuple(data.get("history", ()))
        return Incident(**data)


def incident_id(stack: str, f: Finding) -> str:
    """Return the stable id of a finding's incident (the same drift keeps its id across runs)."""
    return hashlib.sha256("\0".join((stack, *f.key())).encode()).hexdigest()[:12]


def now_iso() -> str:
    """Return the current instant, to the second, in UTC."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(store: IncidentStore, stack: str, findings: Sequence[Finding], now: str,
           conclusive: Iterable[tuple[str, str]],
           breakglass: Callable[[str, str], bool] = lambda _wf, _t: False) -> list[Incident]:
    """Open or refresh an incident per drift finding; mark open ones whose drift is gone. Return what changed.

    `conclusive` names the (workflow, target) pairs read completely this run: only there can drift be gone.
    """
    changed: list[Incident] = []
    seen: set[str] = set()
    readable = set(conclusive)
    for f in findings:
        if f.kind not in RECORDED_KINDS or f.level != "drift":
            continue
        iid = incident_id(stack, f)
        seen.add(iid)
        old = store.get(iid)
        state = "break-glass" if breakglass(f.workflow, f.target) else "open"
        if old is None or old.state in ("adopted", "reverted"):
            new = Incident(iid, stack, f.workflow, f.target, f.kind, f.canonical, f.attribute, f.desired, f.live,
                           f.cause, now, now, state, f.first_diverging,
                           history=({"at": now, "state": state, "note": f.detail or "first seen"},))
        else:
            new = replace(old, last_seen=now, desired=f.desired, live=f.live)
        store.put(new)
        changed.append(new)
    for old in store.all():
        gone = old.id not in seen and old.state in OPEN_STATES and (old.workflow, old.target) in readable
        if not gone:
            continue
        if old.state == "revert-requested":
            new = old.with_event("reverted", now, "git's value runs again after the recorded revert")
        elif old.state == "overwritten":
            continue
        else:
            new = old.with_event("overwritten", now, "git's value runs again, but nobody adopted or reverted the "
                                 "change: a deploy overwrote it; decide with `lockstep drift adopt` or `revert`")
        store.put(new)
        changed.append(new)
    return changed


def unresolved(store: IncidentStore) -> list[Incident]:
    """Return the incidents a rollout must not overwrite without saying so (for the deployment gate)."""
    return [i for i in store.all() if i.state in ("open", "break-glass", "overwritten")]


def resolve(store: IncidentStore, incident_id: str, how: str, note: str, now: str) -> Incident:
    """Record a decision on an incident: adopted (git changed) or revert-requested (git's value redeployed)."""
    found = store.get(incident_id)
    if found is None:
        known = ", ".join(i.id for i in store.all() if i.state in OPEN_STATES) or "(none open)"
        raise LockstepError(f"drift: no single incident matches {incident_id!r}; open incidents: {known}")
    if found.state not in OPEN_STATES:
        raise LockstepError(f"drift: incident {found.id} is already {found.state}")
    new = found.with_event(how, now, note)
    store.put(new)
    return new


def live_of(incidents: Iterable[Incident]) -> dict[str, Any]:
    """Return incidents as JSON-ready dicts."""
    return {i.id: asdict(i) for i in incidents}
