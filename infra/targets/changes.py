"""What a platform's audit source says about who changed a workflow's resource: SDK-free, one answer per lookup.

Every `infra/targets/<t>/audit.py` answers `changed_by(stack, asked, connect) -> Change` from its platform's own
audit trail (CloudTrail, the Azure Activity Log, Cloud Audit Logs, the host's crontab). A lookup that cannot say
returns a Change with an empty principal and the reason; it never raises past drift's attribution step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from infra.imports import NO_CHILDREN, Children

LOOKBACK = dt.timedelta(days=90)  # CloudTrail's event history holds 90 days; the Activity Log keeps 90 too


@dataclass(frozen=True)
class Asked:
    """One incident's question: which workflow, field and kind drifted, where it is declared, and when first seen."""

    workflow: str
    attribute: str
    kind: str
    desired: Any          # the typed desired state (names the region, project, location or host)
    first_seen: str       # ISO instant, UTC: the change happened before it
    cause: str = ""       # "out-of-band" (changed by hand) or "not-deployed" (another release runs)
    # The children its import record adopts on the target: the lookup names them by their live names.
    live: Children = field(default_factory=lambda: NO_CHILDREN)


@dataclass(frozen=True)
class Change:
    """Who changed it (principal), when and through which operation, as the audit source says; or why it cannot."""

    principal: str = ""
    at: str = ""
    action: str = ""
    source: str = ""
    reason: str = ""      # why there is no principal ("" when there is one)

    def note(self) -> str:
        """Return one line for the incident: the operation and instant, or the reason there is no principal."""
        if self.principal:
            return f"{self.source}: {self.action} at {self.at}".strip()
        return f"{self.source}: {self.reason}" if self.source else self.reason


def window(first_seen: str) -> tuple[dt.datetime, dt.datetime]:
    """Return the interval an audit lookup searches: LOOKBACK before first seen, up to the end of its second."""
    seen = dt.datetime.fromisoformat(first_seen.replace("Z", "+00:00"))
    end = seen + dt.timedelta(seconds=1)  # first_seen is cut to the second; an edit in that second still counts
    return end - LOOKBACK, end


def iso(value: dt.datetime) -> str:
    """Return an instant as ISO 8601 in UTC, to the second."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
