"""Drift incidents in the ledger: each new fact about an incident is one signed `drift` entry the audit folds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from infra.audit.history import fold
from infra.drift.compare import Finding
from infra.drift.ledger import LedgerIncidentStore
from infra.drift.reconcile import record, resolve
from infra.ledger.store import GitLedger
from infra.ledger.writer import Writer
from tests.rollout.support import bare_remote

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
FOUND = Finding("billing-export", "gcp", "field", "drift", "timeout", "timeout_s", 240, 300, "out-of-band")


def test_each_state_of_an_incident_is_one_entry_and_a_repeat_sighting_is_none(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    store = LedgerIncidentStore(Writer(GitLedger(str(remote)), "staging", "drift:staging", clock=lambda: NOW))
    [opened] = record(store, "staging", [FOUND], "2026-11-02T09:00:00Z", [("billing-export", "gcp")])
    record(store, "staging", [FOUND], "2026-11-02T10:00:00Z", [("billing-export", "gcp")])  # seen again: no entry
    store.put(dataclasses.replace(opened, changed_by="alice@example.com"))  # attribution arrived: a new fact
    resolve(store, opened.id, "adopted", "billing.py: timeout 4m -> 5m", "2026-11-02T11:00:00Z")
    chain = GitLedger(str(remote)).read()
    assert [(e.kind, e.evidence["state"]) for e in chain] == [("drift", "open"), ("drift", "open"),
                                                              ("drift", "adopted")]
    [incident] = store.all()
    assert incident.state == "adopted" and incident.changed_by == "alice@example.com"
    assert incident.first_seen == "2026-11-02T09:00:00Z"
    folded = fold(chain).incidents[opened.id]
    assert folded.state == "adopted" and folded.first_seen == "2026-11-02T09:00:00Z" and len(folded.states) == 3
