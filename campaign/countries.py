"""ISO 3166-1 alpha-2 countries, and their names in each language.

A signature stores the code ("DE"); a person reads the name in the page's
language, from the Unicode CLDR through Babel (``Locale(language).territories``):
"Germany", "Alemania", "Allemagne", "ألمانيا". Exports keep the English names
they have always carried (``name``), so spreadsheets built on them still work.

The sign form lists the names in the order a reader of the language expects
(``choices``). Python compares strings by code point, and a locale-aware
collation needs the C library's locales or ICU, neither of which every host
has, so the order is that of a sort key of our own (``sort_key``), close to
the Unicode Collation Algorithm's first levels:

1. letters without their accents or case: each name is decomposed (NFKD),
   its combining marks dropped, case folded and ligatures written out
   ("œ" as "oe"); anything that is not a letter or digit counts as a space,
   which sorts before every letter. So "Égypte" sits among the E's in
   French and "Österreich" among the O's, not after "Z";
2. for names equal so far, the accented and cased forms, then the name.

Spanish keeps "ñ" as a letter of its own after "n", as its alphabet does.
Arabic letters are in alphabetical order in Unicode already; the hamza and
madda over or under a letter (أ إ آ ؤ ئ) and the short vowels are
combining marks, so a name sorts by its base letters, teh marbuta (ة)
counts as teh (ت) as in CLDR's Arabic order, and the tatweel is ignored."""
from __future__ import annotations

import unicodedata
from functools import cache

import pycountry
from babel import Locale

from .locales import page_language

# Letters NFKD does not decompose, written out as their base letters.
_WRITTEN_OUT = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
                              "ı": "i", "ة": "ت", "ـ": ""})
# After the base letter it follows (see the module's docstring).
_OWN_LETTERS = {"es": {"ñ": "n\U0010ffff"}}


def sort_key(name: str, language: str = "en") -> tuple[str, str, str]:
    """The key that sorts ``name`` among others for a reader of ``language``."""
    folded = name.casefold()
    for letter, written in _OWN_LETTERS.get(language, {}).items():
        folded = folded.replace(letter, written)
    base = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    base = base.translate(_WRITTEN_OUT)
    base = "".join(c if c.isalnum() or c == "\U0010ffff" else " " for c in base)
    return " ".join(base.split()), folded, name


@cache
def _codes() -> tuple[str, ...]:
    return tuple(c.alpha_2 for c in pycountry.countries)


@cache
def _names_in(language: str) -> dict[str, str]:
    territories = Locale.parse(language).territories
    return {code: territories.get(code) or _english_names()[code] for code in _codes()}


@cache
def _sorted_choices(language: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(_names_in(language).items(), key=lambda pair: sort_key(pair[1], language)))


def choices(language: str | None = None) -> tuple[tuple[str, str], ...]:
    """(code, name) pairs in ``language`` (the page's by default), sorted
    for it: the options of the country select. Worked out once per language."""
    return _sorted_choices(language or page_language())


def local_name(code: str | None, language: str | None = None) -> str:
    """The name of the country ``code`` in ``language`` (the page's by
    default), for people to read; an unknown code as it is."""
    return _names_in(language or page_language()).get(code or "", code or "")


@cache
def _english_names() -> dict[str, str]:
    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


def name(code: str | None) -> str:
    """The English name exports carry (ISO's short name, or its common one)."""
    return _english_names().get(code or "", code or "")


def is_country(code: str | None) -> bool:
    return code in _english_names()
