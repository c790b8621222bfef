"""systemd timer + service pair for hosts that schedule with systemd instead of cron.

Rendered and unit-tested here; systemd cannot run on the build machines (PID 1 is not systemd), so no timer has
been started by these tests. The timer fires at a UTC minute superset (`OnCalendar=*-*-* *:MM:00 UTC`, from
infra.schedule.hostform) and the runner applies the same guard as on cron hosts. A host-zone timer would lose the
repeated hour of an hourly timer when clocks fall back (systemd bug #8647); UTC has no transitions. A oneshot service is
never started twice by systemd, and the runner's flock covers a manual `systemctl start` during a run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from infra.targets.onprem.host.layout import Layout, safe_path

# The superset timer (infra.schedule.hostform.on_calendar): minutes, every hour, in UTC.
ON_CALENDAR_RE = re.compile(r"^\*-\*-\* \*:(\*|\d{2}(,\d{2})*):00 UTC$")


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


def render_units(layout: Layout, version: str, calendar: str, python: str, plan: UnitPlan,
                 instance: str = "") -> dict[str, str]:
    """Render the service and timer unit files of one workflow version (calendar: the UTC superset timer)."""
    if not ON_CALENDAR_RE.fullmatch(calendar):
        raise ValueError(f"OnCalendar {calendar!r} is not the UTC superset form '*-*-* *:MM,MM:00 UTC'")
    layout.version_dir(version)  # a 32-hex digest, nothing else reaches the unit
    safe_path("python", python)
    tag = f" lockstep-instance={instance}" if instance else ""
    stamp = f"# lockstep-workflow={layout.workflow} lockstep-version={version} lockstep-target=onprem{tag}\n"
    service = (
        f"{stamp}[Unit]\nDescription=Lockstep workflow {layout.workflow}\n\n"
        "[Service]\nType=oneshot\nWorkingDirectory=/\n"
        f"ExecStart={shlex.quote(python)} {shlex.quote(layout.runner)}\n"
        f"StandardOutput=append:{layout.path('cron.log')}\nStandardError=inherit\n"
    )
    timer = (
        f"{stamp}[Unit]\nDescription=Schedule of Lockstep workflow {layout.workflow}\n\n"
        f"[Timer]\nOnCalendar={calendar}\nAccuracySec=1s\nPersistent=false\n"
        f"Unit={plan.service}\n\n[Install]\nWantedBy=timers.target\n"
    )
    return {plan.service: service, plan.timer: timer}
