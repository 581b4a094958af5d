"""Signers' time zones: the names we accept, and a sensible zone for each
country when the browser did not tell us one.

A zone is an IANA name (``Europe/Paris``) from the tz database that ships
with the site (the ``tzdata`` package), so every process knows the same
zones whatever its system has. The zone for a country is the first zone
the tz database lists for it (its ``zone.tab`` puts the most populous
first where geography allows), except in the few countries where that
first zone is a small one at an edge (Lord Howe Island for Australia):
there the zone most of its people live in."""
from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources

# Where the tz database's first zone for a country is not where most of its people live.
_MOST_PEOPLE = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
    "KI": "Pacific/Tarawa",
}
LONGEST_NAME = 64  # the column's length


@cache
def zone_names() -> frozenset[str]:
    """Every zone a signer may choose: the tz database's region/city names, and UTC."""
    return frozenset(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
                     ) | {"UTC"}


@cache
def choices() -> list[str]:
    """The zones, sorted, for a list to choose from."""
    return sorted(zone_names())


def is_zone(name: str | None) -> bool:
    return isinstance(name, str) and name in zone_names()


@cache
def _by_country() -> dict[str, str]:
    found: dict[str, str] = {}
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        country, _, zone = line.split("\t")[:3]
        if is_zone(zone):
            found.setdefault(country, zone)
    found.update(_MOST_PEOPLE)
    return found


def zone_for_country(country: str | None) -> str:
    """The zone most people of ``country`` (ISO 3166 alpha-2) live in; UTC if we know none."""
    return _by_country().get((country or "").upper(), "UTC")


def signer_zone(from_browser: str | None, country: str | None) -> str:
    """The zone to record for a signer: their browser's, if it named one we
    know, else their country's."""
    return from_browser if is_zone(from_browser) else zone_for_country(country)
