"""Produce the snapshot keys for every configured warehouse for the current hour."""

from __future__ import annotations

import datetime as dt
import json
import os


def snapshot_keys(now: dt.datetime, warehouses: list[str]) -> list[str]:
    """Return one object key per warehouse for the hour containing `now` (UTC)."""
    hour = now.astimezone(dt.UTC).strftime("%Y/%m/%d/%H")
    return [f"snapshots/{w}/{hour}.json" for w in warehouses]


def handler(event: dict | None = None, context: object = None) -> dict:
    """Entry point: return the keys this run writes."""
    warehouses = [w for w in os.environ.get("WAREHOUSES", "").split(",") if w]
    result = {"keys": snapshot_keys(dt.datetime.now(dt.UTC), warehouses)}
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    handler()
