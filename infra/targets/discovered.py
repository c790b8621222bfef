"""What a discovery reader returns: every scheduled thing a platform runs, stamped by Lockstep or not. SDK-free.

Each `infra/targets/<t>/live.py` has a `discover(stack, connect)` returning `Discovery`; `infra/importer` normalizes
each `Discovered` into the canonical model where it can and groups the overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Discovered:
    """One schedule a platform runs and what it calls, in platform terms (nothing canonical yet)."""

    target: str            # aws | azure | gcp | onprem
    place: str             # region, project/region, location or host
    name: str              # the schedule's own name (schedule, job, app or crontab line)
    live_id: str           # the platform's ID of the schedule, for import
    expression: str        # the native schedule expression ("" when there is none)
    timezone: str | None   # the zone the platform evaluates it in
    calls: str = ""        # what it invokes: a function name, or the non-function target it points at
    function_id: str = ""  # the function's live ID (empty when it calls no function)
    managed: str = ""      # the lockstep-workflow stamp it carries ("" when none)
    code: str = ""         # a code digest comparable across platforms (sha256 of the source files), "" unknown
    runtime: str = ""
    entry: str = ""        # module.function
    timeout_s: int | None = None
    memory_mb: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    not_a_workflow: str = ""  # why this cannot be a workflow ("" when it can)
    children: Mapping[str, str] = field(default_factory=dict)  # other live children by role: their import IDs
    dialect: str = ""  # the native schedule dialect where a target has several ("systemd" on a host), else ""
    # What the reader saw of a child, by role, under the input path the component declares it with
    # ("siteConfig.linuxFxVersion"): the import record keeps it, and the preview shows a declared value that differs.
    observed: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass
class Discovery:
    """One target's discovery: what was found, where reading failed, and the cost."""

    target: str
    found: list[Discovered] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls: int = 0


def code_of(env: Mapping[str, str], native: str, platform: str) -> str:
    """Return the code identity of a function: Lockstep's source digest where stamped, else the platform's own."""
    stamped = env.get("LOCKSTEP_CODE_DIGEST", "")
    return stamped or (f"{platform}:{native}" if native else "")
