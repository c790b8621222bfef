"""systemd timer + service pair for hosts that schedule with systemd instead of cron.

Rendered and unit-tested here; systemd cannot run on the build machines (PID 1 is not systemd), so no timer has
been started by these tests. The timer fires at the same host-zone minute superset as the crontab line and the
runner applies the same time-zone guard, so both schedulers fire at the canonical instants. A oneshot service is
never started twice by systemd, and the runner's flock covers a manual `systemctl start` during a run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from infra.onprem.layout import Layout

MINUTE_FIELD_RE = re.compile(r"^(\*|\d{1,2}(,\d{1,2})*)$")


@dataclass(frozen=True)
class UnitPlan:
    """Where the units go and how systemctl is called for this host user."""

    unit_dir: str
    user_mode: bool
    service: str
    timer: str

    @property
    def names(self) -> list[str]:
        """Return the unit file names, timer last."""
        return [self.service, self.timer]


def unit_plan(workflow: str, root_user: bool) -> UnitPlan:
    """Return the unit names and directory: system units for root, user units (with linger) otherwise."""
    unit_dir = "/etc/systemd/system" if root_user else "~/.config/systemd/user"
    return UnitPlan(unit_dir, not root_user, f"lockstep-{workflow}.service", f"lockstep-{workflow}.timer")


def on_calendar(minute_field: str) -> str:
    """Translate the crontab minute field (`*` or a list) into a systemd OnCalendar expression."""
    if not MINUTE_FIELD_RE.match(minute_field):
        raise ValueError(f"minute field {minute_field!r} is not '*' or a list of minutes")
    if minute_field == "*":
        return "*-*-* *:*:00"
    return "*-*-* *:" + ",".join(f"{int(m):02d}" for m in minute_field.split(",")) + ":00"


def render_units(layout: Layout, version: str, minute_field: str, python: str, plan: UnitPlan) -> dict[str, str]:
    """Render the service and timer unit files of one workflow version."""
    stamp = f"# lockstep-workflow={layout.workflow} lockstep-version={version} lockstep-target=onprem\n"
    service = (
        f"{stamp}[Unit]\nDescription=Lockstep workflow {layout.workflow}\n\n"
        "[Service]\nType=oneshot\nWorkingDirectory=/\n"
        f"ExecStart={shlex.quote(python)} {shlex.quote(layout.runner)}\n"
        f"StandardOutput=append:{layout.path('cron.log')}\nStandardError=inherit\n"
    )
    timer = (
        f"{stamp}[Unit]\nDescription=Schedule of Lockstep workflow {layout.workflow}\n\n"
        f"[Timer]\nOnCalendar={on_calendar(minute_field)}\nAccuracySec=1s\nPersistent=false\n"
        f"Unit={plan.service}\n\n[Install]\nWantedBy=timers.target\n"
    )
    return {plan.service: service, plan.timer: timer}
