"""Build the export manifest for yesterday's ledger partition (UTC)."""

from __future__ import annotations

import datetime as dt
import json
import os


def partition_for(now: dt.datetime) -> tuple[str, str]:
    """Return the [start, end) ISO bounds of the UTC day before `now`."""
    day = (now.astimezone(dt.UTC) - dt.timedelta(days=1)).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start.isoformat(), (start + dt.timedelta(days=1)).isoformat()


def handler(event: dict | None = None, context: object = None) -> dict:
    """Entry point: return (and print) the manifest of the partition to export."""
    start, end = partition_for(dt.datetime.now(dt.UTC))
    manifest = {
        "prefix": f"{os.environ.get('EXPORT_PREFIX', 'ledger/daily')}/{start[:10]}",
        "from": start,
        "to": end,
        "credentials": "present" if os.environ.get("LEDGER_DB_PASSWORD") else "missing",
    }
    print(json.dumps(manifest, sort_keys=True))
    return manifest


if __name__ == "__main__":
    handler()
