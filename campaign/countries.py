"""ISO 3166-1 alpha-2 countries, with their English short names."""
from functools import cache

import pycountry


@cache
def choices() -> list[tuple[str, str]]:
    """(code, name) pairs sorted by name, for the country select."""
    countries = ((c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries)
    return sorted(countries, key=lambda pair: pair[1])


@cache
def _names() -> dict[str, str]:
    return dict(choices())


def name(code: str | None) -> str:
    return _names().get(code or "", code or "")


def is_country(code: str | None) -> bool:
    return code in _names()
