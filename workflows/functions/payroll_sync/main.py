"""Select the timesheets to push: those approved since the previous working day at 09:15 Berlin."""

from __future__ import annotations

import datetime as dt
import json
import os
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def previous_run(now: dt.datetime) -> dt.datetime:
    """Return the previous scheduled run (09:15 Berlin on a working day) strictly before `now`."""
    local = now.astimezone(BERLIN)
    candidate = local.replace(hour=9, minute=15, second=0, microsecond=0)
    if candidate >= local:
        candidate -= dt.timedelta(days=1)
    while candidate.weekday() >= 5:
        candidate -= dt.timedelta(days=1)
    return candidate.replace(tzinfo=BERLIN)


def handler(event: dict | None = None, context: object = None) -> dict:
    """Entry point: return the window of approvals to sync."""
    now = dt.datetime.now(dt.UTC)
    window = {"country": os.environ.get("PAYROLL_COUNTRY", "DE"), "since": previous_run(now).isoformat(),
              "until": now.astimezone(BERLIN).isoformat(), "token": bool(os.environ.get("PAYROLL_API_TOKEN"))}
    print(json.dumps(window, sort_keys=True))
    return window


if __name__ == "__main__":
    handler()
