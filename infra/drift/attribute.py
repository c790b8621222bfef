"""Say who changed it: ask each new incident's platform audit source once, and record the answer on the incident.

Bounded: one lookup per incident, on the run that opens it, and at most MAX_LOOKUPS per run; an incident keeps its
answer (or the reason there is none) from then on. A lookup that fails leaves `changed_by` empty with the reason
in `changed_by_note`; it never fails the drift run.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from infra.drift.desired import Declaration, Declared
from infra.drift.reconcile import Incident, IncidentStore
from infra.targets.changes import Asked, Change

MAX_LOOKUPS = 25  # CloudTrail's LookupEvents allows 2 calls per second per account and region
LOOKED_UP = ("field", "cross-target", "missing")
Lookup = Callable[[Any, Asked, Mapping[str, Any]], Change]


def lookup(target: str) -> Lookup:
    """Return a target's `changed_by` (importing its audit SDK now)."""
    module = importlib.import_module(f"infra.targets.{target}.audit")
    found: Lookup = module.changed_by
    return found


def attribute(decl: Declaration, incidents: Sequence[Incident], store: IncidentStore,
              connect: Mapping[str, Mapping[str, Any]] | None = None,
              lookups: Mapping[str, Lookup] | None = None) -> list[Incident]:
    """Look up who changed each incident not yet asked about; store and return the incidents with the answer."""
    declared = {(d.workflow.name, d.target): d for d in decl.declared}
    todo = [i for i in incidents if i.state in ("open", "break-glass") and not i.changed_by
            and not i.changed_by_note]
    done, asked = [], 0
    for inc in todo:
        want = declared.get((inc.workflow, inc.target))
        change = _ask(decl, inc, want, asked, connect or {}, lookups or {})
        if inc.kind in LOOKED_UP and want is not None:
            asked += 1  # a lookup was made (or refused by the bound)
        new = replace(inc, changed_by=change.principal, changed_by_note=change.note() or "the audit source is silent")
        store.put(new)
        done.append(new)
    return done


def _ask(decl: Declaration, inc: Incident, declared: Declared | None, number: int,
         connect: Mapping[str, Mapping[str, Any]], lookups: Mapping[str, Lookup]) -> Change:
    if inc.kind not in LOOKED_UP:
        return Change(reason="not looked up: an unmanaged resource belongs to no declared workflow")
    if declared is None:
        return Change(reason="not looked up: the workflow is not part of this run")
    if number >= MAX_LOOKUPS:
        return Change(reason=f"not looked up: more than {MAX_LOOKUPS} new incidents in one run")
    try:
        ask = lookups.get(inc.target) or lookup(inc.target)
        target_connect = connect.get(inc.target) or _connect_from_env(inc.target)
        return ask(decl.stack, Asked(inc.workflow, inc.attribute, inc.kind, declared.desired, inc.first_seen,
                                     inc.cause, declared.live), target_connect)
    except Exception as exc:  # the audit source is a courtesy: its failure never fails the drift run
        if os.environ.get("LOCKSTEP_DEBUG"):
            raise
        return Change(reason=f"the lookup failed: {type(exc).__name__}: {exc}")


def _connect_from_env(target: str) -> dict[str, Any]:
    module = importlib.import_module(f"infra.targets.{target}.live")
    found: dict[str, Any] = module.connect_from_env(os.environ)
    return found
