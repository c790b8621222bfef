"""Drift incidents kept in the deployment ledger: each state an incident reaches is one `drift` entry.

`LedgerIncidentStore` is the `IncidentStore` that `reconcile.record` and `reconcile.resolve` write through: `put`
appends the incident as it now stands (detection, each later sighting that changes its state, adopt or revert), and
`all` folds the stack's `drift` entries back, the latest entry of each incident winning. The ledger then holds when
each incident was first seen and how it was resolved, signed and hash-chained with the releases that resolved it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from infra.drift.reconcile import Incident
from infra.ledger.entry import Entry
from infra.ledger.writer import Writer


def evidence_of(incident: Incident) -> dict[str, Any]:
    """Return the incident as ledger evidence (JSON values only)."""
    return json.loads(json.dumps(asdict(incident), sort_keys=True, default=str))  # type: ignore[no-any-return]


def incident_of(entry: Entry) -> Incident:
    """Return the incident a `drift` entry records."""
    data = dict(entry.evidence)
    data.pop("op", None)
    data["history"] = tuple(data.get("history", ()))
    return Incident(**data)


class LedgerIncidentStore:
    """The incidents of one stack as `drift` entries on the ledger, written outside any lease."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def all(self) -> list[Incident]:
        """Return every incident of the stack (its latest state), oldest first."""
        latest: dict[str, Incident] = {}
        for e in self.writer.ledger.read():
            if e.kind == "drift" and e.stack == self.writer.stack and "id" in e.evidence:
                latest[str(e.evidence["id"])] = incident_of(e)
        return sorted(latest.values(), key=lambda i: (i.first_seen, i.id))

    def get(self, incident_id: str) -> Incident | None:
        """Return one incident by its id (or a unique prefix of it)."""
        matches = [i for i in self.all() if i.id.startswith(incident_id)] if incident_id else []
        return matches[0] if len(matches) == 1 else None

    def put(self, incident: Incident) -> None:
        """Append the incident's current state, unless the ledger already holds exactly this state."""
        known = self.get(incident.id)
        if known is not None and (known.state, len(known.history)) == (incident.state, len(incident.history)):
            return  # a sighting that changes nothing is not a new fact
        self.writer.record_unleased("drift", evidence=evidence_of(incident))
