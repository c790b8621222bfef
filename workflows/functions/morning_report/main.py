"""Summarise the overnight session: from the previous 16:00 New York close to now."""

from __future__ import annotations

import datetime as dt
import json
import os
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


def overnight_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Return [previous close at 16:00 New York, now)."""
    local = now.astimezone(NEW_YORK)
    close = local.replace(hour=16, minute=0, second=0, microsecond=0)
    if close > local:
        close -= dt.timedelta(days=1)
    return close, local


def handler(event: dict | None = None, context: object = None) -> dict:
    """Entry point: return the report header."""
    start, end = overnight_window(dt.datetime.now(dt.UTC))
    result = {"desk": os.environ.get("REPORT_DESK", "equities"), "from": start.isoformat(), "to": end.isoformat()}
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    handler()
