"""Small value checkers shared by the workflow and stack validators. Each returns (value, problem)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Callable, Mapping

from infra.errors import MISSING, SpecError
from infra.redact import looks_secret as looks_secret  # the one detection module; validators call it through here
from infra.redact import redacted as redacted

# A path written into a crontab line or a systemd unit: no space, newline, '%' or quote can change what runs.
SAFE_PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]+$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class Reporter:
    """Collects errors for one file; finds the line of a field from the declaration's field map."""

    def __init__(self, path: str, lines: Mapping[str, int], default_line: int) -> None:
        self.path, self.lines, self.default_line = path, lines, default_line
        self.errors: list[SpecError] = []

    def line(self, field: str) -> int:
        """Return the line of a field, or of its nearest declared parent."""
        parts = field.replace("[", ".[").split(".")
        while parts:
            line = self.lines.get(".".join(parts).replace(".[", "["))
            if line:
                return line
            parts.pop()
        return self.default_line

    def error(self, field: str, value: object, why: str, fix: str) -> None:
        """Record one error."""
        self.errors.append(SpecError(self.path, self.line(field), field, value, why, fix))


def check_unknown(rep: Reporter, prefix: str, given: Mapping[str, object], known: tuple[str, ...]) -> None:
    """Report every key of `given` that is not in `known`."""
    for key in given:
        if key not in known:
            rep.error(f"{prefix}{key}", given[key], "is not a known field", f"use one of: {', '.join(known)}")


def check_required(rep: Reporter, prefix: str, given: Mapping[str, object], required: tuple[str, ...],
                   yaml: bool = False) -> None:
    """Report every required key missing from `given`."""
    for key in required:
        if key not in given:
            where = f"under {prefix.rstrip('.')}" if prefix else "at the top level"
            fix = f"add '{key}: ...' {where}" if yaml else f"add {key}=... to the declaration"
            rep.error(f"{prefix}{key}", MISSING, "is required", fix)


def parse_duration(value: object) -> int | None:
    """Parse 90, '90s', '5m', '1h30m' into seconds; None if malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, str) and value and (m := _DURATION.match(value.strip())):
        h, mi, s = (int(g) if g else 0 for g in m.groups())
        return h * 3600 + mi * 60 + s
    return None


def duration(rep: Reporter, field: str, value: object, low: int, high: int) -> int | None:
    """Check a duration within [low, high] seconds."""
    seconds = parse_duration(value)
    if seconds is None:
        rep.error(field, value, "is not a duration", "write seconds as a number, or a string like '90s', '5m', '1h30m'")
    elif not low <= seconds <= high:
        rep.error(field, value, f"is outside {low}s-{high}s", f"choose a value between {low}s and {high}s")
        return None
    return seconds


def timezone(rep: Reporter, field: str, value: object) -> str | None:
    """Check an IANA time zone name."""
    if not isinstance(value, str) or not value:
        rep.error(field, value, "is not a time zone name", "use an IANA name such as 'UTC' or 'Europe/Berlin'")
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        rep.error(field, value, "is not a known IANA time zone", "use a name such as 'UTC', 'Europe/Berlin' or "
                  "'America/New_York' (see the tz database)")
        return None
    return value


def typed(rep: Reporter, field: str, value: object, kind: type, example: str) -> object | None:
    """Check the Python type of a value."""
    if isinstance(value, bool) and kind is not bool:
        ok = False
    else:
        ok = isinstance(value, kind)
    if not ok:
        rep.error(field, value, f"must be {kind.__name__}", f"write it like {example}")
        return None
    return value


def int_in(rep: Reporter, field: str, value: object, low: int, high: int) -> int | None:
    """Check an integer within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        rep.error(field, value, "is not a whole number", f"write a whole number between {low} and {high}")
        return None
    if not low <= value <= high:
        rep.error(field, value, f"is outside {low}-{high}", f"choose a whole number between {low} and {high}")
        return None
    return value


def choice(rep: Reporter, field: str, value: object, options: tuple[str, ...]) -> str | None:
    """Check a value from a fixed set."""
    if value not in options:
        rep.error(field, value, "is not one of the accepted values", f"use one of: {', '.join(options)}")
        return None
    assert isinstance(value, str)
    return value


def aware_datetime(rep: Reporter, field: str, value: object) -> dt.datetime | None:
    """Check a timezone-aware datetime (or ISO string with an offset)."""
    parsed: object = value
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    if not isinstance(parsed, dt.datetime) or parsed.tzinfo is None:
        rep.error(field, value, "is not a date-time with a UTC offset",
                  "write it like '2026-01-01T00:00:00+00:00' or datetime(..., tzinfo=timezone.utc)")
        return None
    return parsed


Check = Callable[[Reporter, str, object], object]


def is_safe_path(value: object) -> bool:
    """Tell whether value is an absolute path of [A-Za-z0-9._/-] with no '..' segment."""
    return isinstance(value, str) and bool(SAFE_PATH_RE.fullmatch(value)) and ".." not in value.split("/")
