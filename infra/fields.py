"""Small value checkers shared by the workflow and stack validators. Each returns (value, problem)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import ipaddress
import re
import struct
import zoneinfo
from collections.abc import Callable, Mapping
from importlib import resources

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
        self.warnings: list[SpecError] = []

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

    def warn(self, field: str, value: object, why: str, fix: str) -> None:
        """Record one warning: accepted, but probably not what the author meant."""
        self.warnings.append(SpecError(self.path, self.line(field), field, value, why, fix))


def check_unknown(rep: Reporter, prefix: str, given: Mapping[str, object], known: tuple[str, ...]) -> None:
    """Report every key of `given` that is not in `known`."""
    for key in given:
        if key not in known:
            rep.error(f"{prefix}{key}", given[key], "is not a known field", f"use one of: {', '.join(known)}")


def check_required(rep: Reporter, prefix: str, given: Mapping[str, object], required: tuple[str, ...],
                   yaml: bool = False) -> None:
    """Report every required key missing from `given`."""
    for key in required:
        if key not in given or given[key] is None:  # an explicit None is as absent as a missing key
            where = f"under {prefix.rstrip('.')}" if prefix else "at the top level"
            fix = f"add '{key}: ...' {where}" if yaml else f"add {key}=... to the declaration"
            rep.error(f"{prefix}{key}", given.get(key, MISSING), "is required", fix)


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
    current = LEGACY_ZONES.get(value) or _zone_links().get(value)
    if current:
        meant = _DST_MEANT.get(value)
        rep.warn(field, value, f"is a legacy alias of {current}{_no_dst_note(value, current)}",
                 f"write {current!r}" + (f", or {meant[0]!r} for {meant[1]} with DST" if meant else ""))
    return value


# POSIX-style zones the tz database keeps only for compatibility; each follows one region's rules.
LEGACY_ZONES = {"EST5EDT": "America/New_York", "CST6CDT": "America/Chicago", "MST7MDT": "America/Denver",
                "PST8PDT": "America/Los_Angeles"}
# Fixed-offset abbreviations whose writer most likely wanted the region's clock, DST included.
_DST_MEANT = {"EST": ("America/New_York", "US Eastern time"), "MST": ("America/Denver", "US Mountain time")}
_UTC_TARGETS = ("Etc/UTC", "Etc/GMT")  # UTC, GMT, Zulu ... are fine spellings of UTC


@functools.lru_cache(maxsize=1)
def _zone_links() -> dict[str, str]:
    """Return the tz database's backward links (old name -> current name), from the tzdata package."""
    try:
        text = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return {}
    links = (line.split()[1:3] for line in text.splitlines() if line.startswith("L "))
    return {old: new for new, old in links if new not in _UTC_TARGETS}


def _no_dst_note(alias: str, current: str) -> str:
    zone = zoneinfo.ZoneInfo(current)
    year = dt.datetime.now(dt.UTC).year
    offsets = {dt.datetime(year, m, 1, tzinfo=zone).utcoffset() for m in (1, 7)}
    if len(offsets) == 1 and "/" not in alias:
        offset = dt.datetime(year, 1, 1, tzinfo=zone).strftime("%z")
        return f" ({alias} has no DST: it is UTC{offset[:3]}:{offset[3:]} all year)"
    return ""


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


# Regions as each provider spells them; a workflow's override is checked like the stack file's.
AWS_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
GCP_REGION_RE = re.compile(r"^[a-z]+-[a-z]+\d$")
AZURE_LOCATION_RE = re.compile(r"^[a-z]+[a-z0-9]*$")
REGIONS = {
    "aws": (AWS_REGION_RE, "is not an AWS region name", "write a region such as 'eu-central-1'"),
    "gcp": (GCP_REGION_RE, "is not a GCP region", "write a region such as 'europe-west1'"),
    "azure": (AZURE_LOCATION_RE, "is not an Azure location name",
              "write a location such as 'westeurope' (lowercase, no spaces)"),
}


def region(rep: Reporter, field: str, value: object, target: str) -> str | None:
    """Check a region (AWS, GCP) or location (Azure) name of the target."""
    pattern, why, fix = REGIONS[target]
    if not (isinstance(value, str) and pattern.fullmatch(value)):
        rep.error(field, value, why, fix)
        return None
    return value


HOST_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa")


def host_key_problem(line: str) -> str:
    """Return why a pinned `TYPE BASE64` host key line is unusable, or '' when its blob decodes to that type."""
    kind, _, blob = line.strip().partition(" ")
    if kind not in HOST_KEY_TYPES:
        return f"has key type {kind!r}; Lockstep pins {', '.join(HOST_KEY_TYPES)}"
    try:
        raw = base64.b64decode(blob.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "is not base64 after the key type"
    if len(raw) < 4 or len(raw) < 4 + struct.unpack(">I", raw[:4])[0]:
        return "does not decode to an SSH public key"
    embedded = raw[4:4 + struct.unpack(">I", raw[:4])[0]].decode("ascii", "replace")
    if embedded != kind:
        return f"says {kind!r} but the key inside is {embedded!r}"
    return ""


def address_problem(value: str) -> str:
    """Return why a host address is unusable, or '' for a host name, an IPv4 or an IPv6 address."""
    if value.count(":") == 1 or (value.startswith("[") and "]:" in value):
        return "carries a port; the port goes in its own field"
    if ":" in value:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return "is not an IPv6 address"
    return ""


# RFC 5322's dot-atom local part, and a domain of DNS labels with a top-level domain.
EMAIL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                      r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
