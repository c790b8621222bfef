"""What validate's later checks found for each workflow, remembered by everything the finding was computed from.

Two checks of `lockstep validate` run per workflow and per stack, and are pure functions of their inputs: the
platform refusals (each target's translation of the workflow under the stack) and schedule equivalence (the same,
over the horizon). Their inputs are the workflow (its whole model, location and field lines included: messages cite
them), the stack, the horizon, the code (`loader_hash`: every .py under infra/, the tz data, the interpreter) and
the day (a translation reads today's UTC offsets and this year's DST hours). An entry is keyed by all of them, so a
workflow whose file did not change is judged once, and an edited one again.

Entries are JSON data (loadmemo's encoding) in the same `Store` as the loader's memo; a value the encoding cannot
rebuild exactly is computed every time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from infra import fidelity
from infra.errors import SpecError
from infra.horizon import Horizon
from infra.loadmemo import Entries, Store, Unmemoizable, decode, exact
from infra.model import StackConfig, Workflow
from infra.schedule.workflow_check import Finding, check_workflow

FORMAT = "lockstep-check-memo/1"
T = TypeVar("T")


class Judged(NamedTuple):
    """One schedule-equivalence finding that is not ok, with what its error message needs of the verdict."""

    workflow: str
    target: str
    level: str  # "error" | "warning"
    message: str
    platform: str
    divergences: tuple[tuple[str, str, str], ...]  # (kind, first instant or "", detail), in the verdict's order


class Refused(NamedTuple):
    """The platform refusals of one workflow under one stack."""

    errors: tuple[SpecError, ...]  # every target's, in target order
    impossible: tuple[str, ...]  # the targets that refuse its schedule outright


class Verdicts(Entries):
    """Per-workflow check results for one process; read from and written back to a Store once per validation."""

    def __init__(self, store: Store | None = None, code: str = "") -> None:
        super().__init__(store if code else None, f"check-memo-{code}")
        self.code = code
        self.day = _today()
        self._prints: dict[int, tuple[object, str]] = {}  # id -> (the object, kept alive; its fingerprint)

    def begin(self) -> None:
        """Start a validation: read the stored entries (once) and the day their keys are for."""
        self.day = _today()
        self.read()

    def refusals(self, wf: Workflow, stack: StackConfig) -> Refused:
        """Return what each of the workflow's targets under the stack cannot honour."""
        def compute() -> Refused:
            targets = wf.targets_in(stack)
            errors = tuple(e for t in targets for e in fidelity.refusals(wf, stack, t))
            impossible = tuple(t for t in targets
                               if fidelity.translation(wf, stack, t).fidelity["schedule"].level == "impossible")
            return Refused(errors, impossible)
        found = self._remembered(("refusals", self._print(wf), self._print(stack)), compute)
        return Refused(tuple(found[0]), tuple(found[1]))

    def findings(self, wf: Workflow, stack: StackConfig | None, horizon: Horizon) -> tuple[Judged, ...]:
        """Return the workflow's schedule-equivalence findings under the stack that are not ok, in order."""
        def compute() -> tuple[Judged, ...]:
            return tuple(_judged(f) for f in check_workflow(wf, stack, horizon.days, horizon.start)
                         if f.level != "ok")
        parts = ("findings", self._print(wf), self._print(stack), horizon.start.isoformat(), str(horizon.days))
        return tuple(Judged(*j) for j in self._remembered(parts, compute))

    def save(self) -> None:
        """Write back the entries this validation used, if any is new and the day did not change meanwhile."""
        if self.day == _today():
            self.write()

    def _print(self, value: Workflow | StackConfig | None) -> str:
        """Return a value's fingerprint, made once per object: a workflow is judged under every stack."""
        known = self._prints.get(id(value))
        if known is None or known[0] is not value:
            known = (value, _stack_print(value) if not isinstance(value, Workflow) else repr(value))
            self._prints[id(value)] = known
        return known[1]

    def _remembered(self, parts: Sequence[str], compute: Callable[[], T]) -> Any:
        if self.entries is None or not self.code:
            return compute()
        k = hashlib.sha256("\0".join((FORMAT, self.day, *parts)).encode()).hexdigest()
        if k in self.entries:
            try:
                value = decode(self.entries[k])
                self.hit(k)
                return value
            except (KeyError, TypeError, ValueError, IndexError, Unmemoizable):
                pass
        self.misses += 1
        value = compute()
        with contextlib.suppress(Unmemoizable, TypeError, ValueError):  # not rebuilt exactly: computed every time
            self.keep(k, exact(value))
        return value


def _judged(finding: Finding) -> Judged:
    verdict = finding.verdict
    divergences = tuple((d.kind, (d.canonical or d.actual or ("",))[0], d.detail) for d in verdict.divergences)
    return Judged(finding.workflow, finding.target, finding.level, finding.message, verdict.platform, divergences)


def _stack_print(stack: StackConfig | None) -> str:
    """Return everything of a stack (its repr leaves out where targets were switched off)."""
    return "None" if stack is None else f"{stack!r}\0{stack.off_lines!r}"


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()
