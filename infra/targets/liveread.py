"""What a live reader returns: each workflow's resources in Pulumi's property shape, or why they could not be read.

SDK-free. Every `infra/targets/<t>/live.py` returns a `LiveRead`; drift normalizes its `resources` through the same
`TARGETS[t].normalize` that reads registered inputs, so git, a saved plan and the platform compare as one type.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from infra.imports import NO_CHILDREN, Children
from infra.targets.base import Observed

T = TypeVar("T")
READ_WORKERS = 8  # concurrent reads per target, unless $LOCKSTEP_DRIFT_WORKERS says otherwise
# From this many workflows in one place (region, project, resource group), a reader lists each resource type once
# instead of reading each resource; below it, point reads cost fewer calls than a list's pages.
LIST_FROM = 8
READ_MODES = ("auto", "list", "point")


@dataclass(frozen=True)
class Wanted:
    """One workflow a reader must read: its name and its desired state (which names its region, project, host)."""

    workflow: str
    desired: Any
    package_sha256_b64: str | None = None  # the package the program would deploy, where the platform reports one
    # The children its import record adopts on this target: they keep their live names (the target's `names`).
    live: Children = field(default_factory=lambda: NO_CHILDREN)


@dataclass(frozen=True)
class Unmanaged:
    """A resource that carries Lockstep's stamps (or name) but belongs to no declared workflow: an orphan or ghost."""

    target: str
    kind: str
    name: str
    workflow: str  # the lockstep-workflow stamp it carries ("" when it carries none)


@dataclass
class LiveRead:
    """One target's live state: resources per workflow, the workflows it could not read and why, and the cost."""

    target: str
    resources: dict[str, list[Observed]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)     # workflow -> what is not deployed at all
    unreadable: dict[str, str] = field(default_factory=dict)  # workflow -> why it could not be read
    error: str = ""                                             # the whole target could not be read
    unmanaged: list[Unmanaged] = field(default_factory=list)
    calls: int = 0
    resources_read: int = 0


class Unreadable(Exception):
    """A live read failed in a way that makes the comparison inconclusive (denied, throttled past retries, down)."""


class NotDeployed(Exception):
    """The platform says a resource of the workflow does not exist."""


def with_backoff(call: Callable[[], T], retryable: Callable[[BaseException], bool], *, attempts: int = 4,
                 first_delay_s: float = 0.2, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run a call, retrying throttling and transient errors with exponential backoff, at most `attempts` times."""
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not retryable(exc):
                raise
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def read_each(out: LiveRead, wanted: Mapping[str, Wanted], read_one: Callable[[Wanted], list[Observed]],
              describe: Callable[[BaseException], str | None], workers: int | None = None) -> None:
    """Read every wanted workflow, `workers` at a time (the calls wait on the network, not the CPU); sort each
    failure into missing (NotDeployed) or unreadable (`describe`'s text).

    `describe` returns None for an exception that is a bug rather than a platform answer, which then propagates.
    """
    def one(want: Wanted) -> tuple[str, list[Observed] | None, str, str]:
        try:
            return want.workflow, read_one(want), "", ""
        except NotDeployed as exc:
            return want.workflow, None, str(exc), ""
        except Exception as exc:
            why = describe(exc)
            if why is None:
                raise
            return want.workflow, None, "", why

    if workers is None:
        workers = int(os.environ.get("LOCKSTEP_DRIFT_WORKERS") or READ_WORKERS)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(one, [w for _n, w in sorted(wanted.items())]))
    for name, found, missing, why in results:
        if missing:
            out.missing[name] = missing
        elif why:
            out.unreadable[name] = why
        elif found is not None:
            out.resources[name] = found
            out.resources_read += len(found)


def use_lists(connect: Mapping[str, Any], count: int) -> bool:
    """Return whether to list resource types rather than read each resource, for `count` workflows in one place.

    `connect["reads"]` (else $LOCKSTEP_DRIFT_READS) forces "list" or "point"; "auto" lists from LIST_FROM on.
    """
    mode = str(connect.get("reads") or os.environ.get("LOCKSTEP_DRIFT_READS") or "auto")
    if mode not in READ_MODES:
        raise ValueError(f"LOCKSTEP_DRIFT_READS={mode!r} is not one of {', '.join(READ_MODES)}")
    return mode == "list" or (mode == "auto" and count >= LIST_FROM)


def unreadable_all(out: LiveRead, names: Iterable[str], why: str) -> None:
    """Mark workflows unreadable because a list they depend on failed: inconclusive, never in sync."""
    for name in names:
        out.unreadable[name] = why


class Counter:
    """A thread-safe count of API calls, added to a LiveRead."""

    def __init__(self, out: LiveRead) -> None:
        self._out, self._lock = out, threading.Lock()

    def add(self, n: int = 1) -> None:
        """Count n calls."""
        with self._lock:
            self._out.calls += n
