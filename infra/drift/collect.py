"""Read every target's live state through its reader and normalize it into the same Desired type git declares.

Each `infra/targets/<t>/live.py` is imported here, on demand: the vendor SDKs load only for `lockstep drift`.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from infra.drift.desired import Declaration
from infra.targets.base import NormalizeError
from infra.targets.liveread import LiveRead, Unmanaged, Wanted
from infra.targets.registry import TARGETS

Reader = Callable[..., LiveRead]


@dataclass(frozen=True)
class Live:
    """One workflow on one target as the platform runs it: a Desired, or why there is none."""

    workflow: str
    target: str
    desired: Any = None     # normalized live state, when readable
    missing: str = ""       # the platform has no such workflow
    inconclusive: str = ""  # it could not be read or normalized: never "in sync"
    names: tuple[tuple[str, str], ...] = ()  # (type, live name) of every resource read, to name what differs


@dataclass
class Collected:
    """Every live state of a stack, the unmanaged resources, and what reading cost."""

    live: dict[tuple[str, str], Live] = field(default_factory=dict)
    unmanaged: list[Unmanaged] = field(default_factory=list)
    target_errors: dict[str, str] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    resources: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def reader(target: str) -> Reader:
    """Return a target's `read_live` (importing its vendor SDK now)."""
    module = importlib.import_module(f"infra.targets.{target}.live")
    found: Reader = module.read_live
    return found


def connect_from_env(target: str) -> dict[str, Any]:
    """Return a reader's endpoint overrides from the environment (emulators); empty for the real cloud."""
    module = importlib.import_module(f"infra.targets.{target}.live")
    found: dict[str, Any] = module.connect_from_env(os.environ)
    return found


def collect(decl: Declaration, connect: Mapping[str, Mapping[str, Any]] | None = None,
            readers: Mapping[str, Reader] | None = None) -> Collected:
    """Read and normalize every declared (workflow, target); one failing target makes only its pairs inconclusive."""
    out = Collected()
    by_target: dict[str, dict[str, Wanted]] = {}
    for d in decl.declared:
        by_target.setdefault(d.target, {})[d.workflow.name] = Wanted(d.workflow.name, d.desired, d.package_sha256_b64,
                                                                     d.live)
    def read_target(target: str) -> tuple[LiveRead, float]:
        started = time.perf_counter()
        try:
            read = (readers or {}).get(target) or reader(target)
            got = read(decl.stack, by_target[target], dict((connect or {}).get(target) or connect_from_env(target)))
        except Exception as exc:  # an SDK that cannot even start (no credentials, bad endpoint): say so, go on
            if os.environ.get("LOCKSTEP_DEBUG"):
                raise
            got = LiveRead(target, error=f"{type(exc).__name__}: {exc}")
        return got, time.perf_counter() - started

    targets = sorted(by_target)
    with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:  # the platforms are read at once
        results = list(pool.map(read_target, targets))
    for target, (got, seconds) in zip(targets, results, strict=True):
        wanted = by_target[target]
        out.seconds[target] = seconds
        out.calls[target], out.resources[target] = got.calls, got.resources_read
        out.unmanaged.extend(got.unmanaged)
        if got.error:
            out.target_errors[target] = got.error
        for name in wanted:
            out.live[(name, target)] = _normalize(target, name, got)
    return out


def _normalize(target: str, name: str, got: LiveRead) -> Live:
    if name in got.missing:
        return Live(name, target, missing=got.missing[name])
    if name in got.unreadable:
        return Live(name, target, inconclusive=got.unreadable[name])
    if name not in got.resources:
        return Live(name, target, inconclusive=got.error or "the reader returned nothing for it")
    try:
        observed = got.resources[name]
        return Live(name, target, desired=TARGETS[target].normalize(observed),
                    names=tuple((o.type, o.name) for o in observed))
    except NormalizeError as exc:
        return Live(name, target, inconclusive=f"what the platform reports cannot be read back: {exc}")
