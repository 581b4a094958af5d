"""Where a signature came from: the link's source codes and the signer who
shared it.

Links may carry ``?source=`` (or ``utm_source``), ``utm_medium``,
``utm_campaign`` and ``ref`` (a signer's referral code). The campaign page
itself never varies with them, so it stays one cached page: the values reach
the sign POST in its ``Referer`` (our Referrer-Policy sends the full address
to our own site) and, where a browser leaves that out, in hidden fields a
few lines of script copy from the address bar. What is recorded is
normalised (accents dropped, lower case; ASCII letters, digits, ``.``,
``_`` and ``-``) and capped, so a link cannot carry markup, formulas or an
essay into the exports. The hidden fields win over the Referer, field by
field: a page's own script saw the address the person actually opened."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

# The query keys and the hidden form fields that carry them.
SOURCE_KEYS = ("source", "utm_source")
MEDIUM_KEY = "utm_medium"
CAMPAIGN_KEY = "utm_campaign"
REFERRAL_KEY = "ref"
FIELDS = ("source", MEDIUM_KEY, CAMPAIGN_KEY, REFERRAL_KEY)

LENGTH = 64
CODE_LENGTH = 12
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
# A run of what a code may not hold (with any hyphens around it).
_OTHER = re.compile(r"-*[^a-z0-9._-][^a-z0-9._]*")


@dataclass(frozen=True)
class Provenance:
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    referral: str | None = None  # the referrer's code, if it looks like one

    def __bool__(self) -> bool:
        return any((self.source, self.medium, self.campaign, self.referral))

    def as_fields(self) -> dict[str, str]:
        """The sign form's hidden fields that carry this provenance (for a
        form sent back with errors: the codes are not lost)."""
        values = zip(FIELDS, (self.source, self.medium, self.campaign, self.referral), strict=True)
        return {name: value for name, value in values if value}

    def filled_from(self, other: Provenance) -> Provenance:
        """This provenance with what it lacks taken from ``other``."""
        return Provenance(self.source or other.source, self.medium or other.medium,
                          self.campaign or other.campaign, self.referral or other.referral)


def normalise(value: object) -> str | None:
    """``value`` as a source code: accents dropped (Café: cafe), lower case,
    runs of anything but ASCII letters, digits, dot, underscore and hyphen
    made one hyphen, capped; None if nothing is left."""
    if not isinstance(value, str):
        return None
    ascii_text = unicodedata.normalize("NFKD", value[: LENGTH * 4]).encode("ascii", "ignore").decode()
    text = _OTHER.sub("-", ascii_text.strip().lower()).strip("-._")
    return text[:LENGTH].rstrip("-._") or None


def referral_code(value: object) -> str | None:
    """``value`` if it has the shape of a referral code, else None."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower()
    if len(code) == CODE_LENGTH and all(c in _CODE_ALPHABET for c in code):
        return code
    return None


def new_referral_code() -> str:
    """A fresh code for a signer's share link: 12 characters, about 59 bits
    (a collision among millions of signatures stays unlikely)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def share_link(campaign_url: str, code: str) -> str:
    """A signer's own share link: the campaign's address with their code."""
    return f"{campaign_url}?{REFERRAL_KEY}={code}"


def from_values(get) -> Provenance:
    """The provenance in a query string or form: ``get(key)`` gives a key's
    first value or None."""
    source = next((normalise(get(key)) for key in SOURCE_KEYS if normalise(get(key))), None)
    return Provenance(source, normalise(get(MEDIUM_KEY)), normalise(get(CAMPAIGN_KEY)),
                      referral_code(get(REFERRAL_KEY)))


def from_address(url: str | None, our_addresses: tuple[str, ...]) -> Provenance:
    """The provenance in the query of ``url`` (a POST's Referer), if it is
    an address on our own site (one of ``our_addresses``, such as the
    SITE_URL): another site's address says nothing."""
    if not url:
        return Provenance()
    try:
        parts = urlsplit(url[:2048])
        ours = {(p.scheme, p.netloc) for p in map(urlsplit, our_addresses)}
    except ValueError:
        return Provenance()
    if (parts.scheme, parts.netloc) not in ours or not parts.query:
        return Provenance()
    try:
        query = parse_qs(parts.query, max_num_fields=20)
    except ValueError:  # more fields than any link of ours carries: made up
        return Provenance()
    return from_values(lambda key: (query.get(key) or [None])[0])


def of_request(request, site_url: str) -> Provenance:
    """A sign POST's provenance: the hidden fields first, then what the
    Referer's query adds (if it is one of our pages: the site's address or
    the one this request came to)."""
    referer = from_address(request.headers.get("Referer"), (site_url, request.host_url))
    return from_values(request.form.get).filled_from(referer)
