"""Compute the expiry cut-off and the batches a drain run processes."""

from __future__ import annotations

import datetime as dt
import json
import os


def plan(now: dt.datetime, backlog: int) -> dict:
    """Return the cut-off instant and how the backlog splits into batches."""
    max_age = int(os.environ.get("MAX_AGE_MINUTES", "60"))
    batch = max(1, int(os.environ.get("BATCH_SIZE", "500")))
    return {"cutoff": (now - dt.timedelta(minutes=max_age)).isoformat(), "batches": -(-backlog // batch)}


def handler(event: dict | None = None, context: object = None) -> dict:
    """Entry point: plan the drain for the backlog named in the event (0 when absent)."""
    backlog = int((event or {}).get("backlog", 0))
    result = plan(dt.datetime.now(dt.UTC), backlog)
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    handler()
