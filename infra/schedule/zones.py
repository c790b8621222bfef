"""IANA zone -> Windows time zone ID, for WEBSITE_TIME_ZONE on Windows function apps [Z1].

A small table from CLDR's windowsZones.xml (supplemental data, the mapping Microsoft documents for .NET):
each Windows ID is listed with its CLDR "001" (golden) zone first, which is the zone used to evaluate it.
A zone not listed is refused rather than guessed: a wrong Windows ID silently moves every fire.
"""

from __future__ import annotations

_WINDOWS: dict[str, tuple[str, ...]] = {
    "UTC": ("Etc/UTC", "UTC", "Etc/GMT", "GMT", "Etc/Universal", "Etc/Zulu"),
    "GMT Standard Time": ("Europe/London", "Europe/Dublin", "Europe/Lisbon", "Atlantic/Canary"),
    "W. Europe Standard Time": ("Europe/Berlin", "Europe/Amsterdam", "Europe/Rome", "Europe/Vienna",
                                "Europe/Stockholm", "Europe/Oslo", "Europe/Zurich", "Europe/Luxembourg"),
    "Romance Standard Time": ("Europe/Paris", "Europe/Brussels", "Europe/Madrid", "Europe/Copenhagen"),
    "Central European Standard Time": ("Europe/Warsaw", "Europe/Zagreb", "Europe/Sarajevo", "Europe/Skopje"),
    "Central Europe Standard Time": ("Europe/Budapest", "Europe/Prague", "Europe/Bratislava", "Europe/Belgrade",
                                     "Europe/Ljubljana"),
    "GTB Standard Time": ("Europe/Bucharest", "Europe/Athens"),
    "FLE Standard Time": ("Europe/Kiev", "Europe/Kyiv", "Europe/Helsinki", "Europe/Riga", "Europe/Sofia",
                          "Europe/Tallinn", "Europe/Vilnius"),
    "Turkey Standard Time": ("Europe/Istanbul",),
    "Russian Standard Time": ("Europe/Moscow",),
    "Israel Standard Time": ("Asia/Jerusalem",),
    "Egypt Standard Time": ("Africa/Cairo",),
    "South Africa Standard Time": ("Africa/Johannesburg",),
    "W. Central Africa Standard Time": ("Africa/Lagos",),
    "E. Africa Standard Time": ("Africa/Nairobi",),
    "Arabian Standard Time": ("Asia/Dubai",),
    "Iran Standard Time": ("Asia/Tehran",),
    "Pakistan Standard Time": ("Asia/Karachi",),
    "India Standard Time": ("Asia/Kolkata", "Asia/Calcutta"),
    "Nepal Standard Time": ("Asia/Kathmandu",),
    "SE Asia Standard Time": ("Asia/Bangkok", "Asia/Jakarta", "Asia/Ho_Chi_Minh"),
    "China Standard Time": ("Asia/Shanghai", "Asia/Hong_Kong"),
    "Singapore Standard Time": ("Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila"),
    "Taipei Standard Time": ("Asia/Taipei",),
    "Tokyo Standard Time": ("Asia/Tokyo",),
    "Korea Standard Time": ("Asia/Seoul",),
    "W. Australia Standard Time": ("Australia/Perth",),
    "AUS Central Standard Time": ("Australia/Darwin",),
    "Cen. Australia Standard Time": ("Australia/Adelaide",),
    "E. Australia Standard Time": ("Australia/Brisbane",),
    "AUS Eastern Standard Time": ("Australia/Sydney", "Australia/Melbourne", "Australia/Canberra"),
    "Lord Howe Standard Time": ("Australia/Lord_Howe",),
    "New Zealand Standard Time": ("Pacific/Auckland",),
    "Hawaiian Standard Time": ("Pacific/Honolulu",),
    "Alaskan Standard Time": ("America/Anchorage",),
    "Pacific Standard Time": ("America/Los_Angeles", "America/Vancouver", "America/Tijuana"),
    "US Mountain Standard Time": ("America/Phoenix",),
    "Mountain Standard Time": ("America/Denver", "America/Edmonton", "America/Boise"),
    "Central Standard Time": ("America/Chicago", "America/Winnipeg"),
    "Central Standard Time (Mexico)": ("America/Mexico_City",),
    "Eastern Standard Time": ("America/New_York", "America/Toronto", "America/Detroit"),
    "SA Pacific Standard Time": ("America/Bogota", "America/Lima"),
    "Atlantic Standard Time": ("America/Halifax",),
    "Newfoundland Standard Time": ("America/St_Johns",),
    "E. South America Standard Time": ("America/Sao_Paulo",),
    "Argentina Standard Time": ("America/Argentina/Buenos_Aires", "America/Buenos_Aires"),
}
_TO_WINDOWS = {iana: win for win, zones in _WINDOWS.items() for iana in zones}


def windows_id(iana: str) -> str | None:
    """Return the Windows time zone ID for an IANA zone, or None if the table does not cover it."""
    return _TO_WINDOWS.get(iana)


def iana_for_windows(windows: str) -> str | None:
    """Return the IANA zone that evaluates a Windows ID (CLDR's golden zone), or None if unknown."""
    zones = _WINDOWS.get(windows)
    return zones[0] if zones else None


def covered_zones() -> tuple[str, ...]:
    """Return every IANA zone the table maps (for messages and tests)."""
    return tuple(sorted(_TO_WINDOWS))
