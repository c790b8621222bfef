"""What the on-prem target can and cannot promise: Debian cron, systemd timers and Lockstep's own runner. SDK-free.

Sources: [C2][C4] Debian cron(8) (no CRON_TZ; DST handling of fixed-time jobs), [S4] systemd.time(7) and issue
#8647 (a host-zone timer skips wall times in a gap and drops the repeated hour of interval timers).
"""

from __future__ import annotations

from infra.targets.base import ResourceFacts

RESERVED_ENV = ("LOCKSTEP_",)
SYSTEMD_DST_GAP = "systemd skips a wall time inside a DST gap and drops the repeated hour of interval schedules"
MEMORY = "an address-space limit (RLIMIT_AS) on the runner, not resident memory"
RUNTIME = "the host's python3 runs the code; its version is the host's"
OVERLAP = "an overlapping run is skipped (run lock), not delayed"

# One resource per workflow: Lockstep's SSH dynamic resource, whose `stamps` input carries the stamps.
RESOURCES = ResourceFacts("pulumi-python:dynamic/lockstep-onprem:Workflow", "stamps")
# The one child a crontab line's import record names: the resource on its host, with the host it is on and the
# sha256 of the line (never the line: it may hold a credential). Its create swaps the line for Lockstep's block.
IMPORTABLE: dict[str, tuple[str, ...]] = {"host": ("host", "line")}
