"""Work out the billing period an invoice run closes: the calendar month before the run."""

from __future__ import annotations

import datetime as dt
import json


def billing_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the month before `today`."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


def handler(event: dict | None = None, context: object = None) -> dict:
    """Entry point: return the period to invoice."""
    first, last = billing_period(dt.datetime.now(dt.UTC).date())
    result = {"period_start": first.isoformat(), "period_end": last.isoformat()}
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    handler()
