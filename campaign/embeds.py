"""A campaign's embed page on partner sites: which sites may frame it, and
what a signature made inside such a frame records as its source.

An organiser lists the partner sites by origin (``https://host[:port]``,
one a line) or lets anyone embed the page. The list becomes the embed
page's ``frame-ancestors``: a browser shows the page inside a frame only on
those sites (and on our own pages: the organiser's preview). Every other
page of the site keeps ``frame-ancestors 'none'``.

Who the partner is reaches the sign POST as a claim: the ``partner`` value
that static/embed.js puts in the frame's address (the page's own origin)
or that the frame's own script reads from the browser (the frame's
ancestor), carried by the form or by the POST's Referer (the frame's
address); or else a ``source`` link code on the frame's address. A claim is
believed only if its host is one of the campaign's partners, or if the
campaign lets anyone embed it: a stranger cannot credit a campaign's
signatures to a partner it does not list, nor to a name of their choosing.
The signature then records the partner's host (normalised like every
source code) as its source and "embed" as its medium; the link's
``utm_campaign`` and ``ref`` pass through as on any link."""
from __future__ import annotations

import ipaddress
import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from cachetools import LRUCache
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from . import provenance
from .extensions import db
from .models import Campaign
from .provenance import Provenance

MAX_ORIGINS = 20
MAX_ORIGIN_LENGTH = 200
# The whole field: every line at its longest, with its line break.
MAX_FIELD_LENGTH = MAX_ORIGINS * (MAX_ORIGIN_LENGTH + 2)
MEDIUM = "embed"
# The query key and form field that name the partner site (an origin).
PARTNER_KEY = "partner"

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginError(ValueError):
    """A list of origins an organiser typed that cannot be kept, and why
    (a sentence for the person, translated)."""


def _host(text: str) -> str | None:
    """``text`` as a host name or IP address (lower case, IDNA), or None."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        host = text.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        return None
    return host


def normalise_origin(text: str, line: int = 1) -> str:
    """One origin as the organiser typed it, as browsers write it
    (``scheme://host[:port]``, lower case, no default port); OriginError
    saying what is wrong otherwise."""
    text = text.strip()
    if len(text) > MAX_ORIGIN_LENGTH:
        raise OriginError(_("Line %(line)s is too long: a site's address has at most %(n)s characters.",
                            line=line, n=MAX_ORIGIN_LENGTH))
    if any(ord(c) < 33 or ord(c) == 127 for c in text):
        raise OriginError(_("Line %(line)s has a space or an invisible character in it.", line=line))
    scheme, has_scheme, rest = text.partition("://")
    if not has_scheme or scheme.lower() not in _DEFAULT_PORTS:
        raise OriginError(_("Line %(line)s must start with https:// (or http://), as in https://example.org.",
                            line=line))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise OriginError(_("Line %(line)s: the port must be a number from 1 to 65535.", line=line)) from None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in rest or "#" in rest:
        raise OriginError(_("Line %(line)s: give only the site's address, without a path, as in "
                            "https://example.org.", line=line))
    if parts.username is not None or parts.password is not None:
        raise OriginError(_("Line %(line)s: a site's address has no user name or password.", line=line))
    if port == 0:
        raise OriginError(_("Line %(line)s: the port must be a number from 1 to 65535.", line=line))
    hostname = parts.hostname or ""
    if not hostname:
        raise OriginError(_("Line %(line)s has no site's name after %(scheme)s://.", line=line,
                            scheme=scheme.lower()))
    if "*" in hostname:
        raise OriginError(_("Line %(line)s: list each site on a line of its own; a * cannot stand for "
                            "several.", line=line))
    host = _host(hostname)
    if host is None:
        raise OriginError(_("Line %(line)s: “%(host)s” is not a site's name.", line=line, host=hostname[:60]))
    scheme = scheme.lower()
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


def parse_origins(text: str) -> tuple[str, ...]:
    """The origins of a list typed one a line (blank lines and repeats
    dropped), in the order given; OriginError for the first line that is
    not an origin, or for too many."""
    if len(text) > MAX_FIELD_LENGTH:
        raise OriginError(_("The list is too long: at most %(n)s sites.", n=MAX_ORIGINS))
    origins: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            origins[normalise_origin(line, number)] = None
    if len(origins) > MAX_ORIGINS:
        raise OriginError(_("The list is too long: at most %(n)s sites.", n=MAX_ORIGINS))
    return tuple(origins)


@dataclass(frozen=True)
class Embedding:
    """Who may frame a campaign's embed page."""

    origins: tuple[str, ...] = ()
    anyone: bool = False

    @property
    def frame_ancestors(self) -> str:
        """The CSP frame-ancestors sources: our own pages (the organiser's
        preview), and the partners or any site."""
        return "'self' *" if self.anyone else " ".join(("'self'", *self.origins))

    def credits(self, claim: str | None) -> str | None:
        """The source a claimed partner (an origin, or a host as a source
        code) is recorded as, if it is believed; else None."""
        host = _claimed_host(claim)
        if host is None:
            return None
        if self.anyone or host in {_claimed_host(origin) for origin in self.origins}:
            return host
        return None


def _claimed_host(claim: str | None) -> str | None:
    """The host a claim names, as a source code: ``https://a.example:8443``
    and ``a.example`` both give ``a.example``."""
    if not claim or not isinstance(claim, str):
        return None
    claim = claim.strip()[:MAX_ORIGIN_LENGTH]
    if "://" in claim:
        try:
            claim = urlsplit(claim).hostname or ""
        except ValueError:
            return None
    return provenance.normalise(claim)


def embedding_of(campaign: Campaign) -> Embedding:
    """What the campaign says now (its row as loaded)."""
    return Embedding(_stored_origins(campaign.embed_origins), bool(campaign.embed_anyone))


def _stored_origins(text: str | None) -> tuple[str, ...]:
    """The stored list, each line checked again on the way into a header:
    a line that is not an origin (one written by other means) is left out."""
    kept = []
    for line in (text or "").splitlines():
        try:
            kept.append(normalise_origin(line))
        except OriginError:
            continue
    return tuple(dict.fromkeys(kept))


class _Kept:
    def __init__(self):
        self.embeddings: LRUCache = LRUCache(maxsize=1024)
        self.lock = threading.Lock()


def embedding(campaign_id: int, edition: int) -> Embedding:
    """The campaign's embedding at ``edition``: read once per edition and
    process (saving it raises the edition), on a connection of its own."""
    kept = current_app.extensions.get("embeds")
    if kept is None:
        kept = current_app.extensions.setdefault("embeds", _Kept())
    key = (campaign_id, edition)
    with kept.lock:
        found = kept.embeddings.get(key)
    if found is not None:
        return found
    with db.engine.connect() as own:
        row = own.execute(select(Campaign.embed_origins, Campaign.embed_anyone)
                          .where(Campaign.id == campaign_id)).one_or_none()
    found = Embedding() if row is None else Embedding(_stored_origins(row.embed_origins), bool(row.embed_anyone))
    with kept.lock:
        kept.embeddings[key] = found
    return found


def save(campaign: Campaign, origins: tuple[str, ...], anyone: bool) -> Campaign:
    """Keep the campaign's partner list (parsed by parse_origins) and
    whether anyone may embed it. Its edition goes up with the change, so
    its embed page is built again with the new frame-ancestors."""
    campaign.embed_origins = "\n".join(origins)
    campaign.embed_anyone = anyone
    db.session.commit()
    return campaign


def signature_provenance(link: Provenance, claim: str | None, embedded: Embedding) -> Provenance:
    """What a signature made in the embed page records: the believed
    partner (or the link's own source, as a claim like any other) as its
    source, "embed" as its medium, and the link's campaign and referral."""
    source = embedded.credits(claim) or embedded.credits(link.source)
    return Provenance(source=source, medium=MEDIUM, campaign=link.campaign, referral=link.referral)


def claimed_partner(named: tuple[str | None, ...], referer: str | None, our_addresses: tuple[str, ...]) -> str | None:
    """The partner a sign POST claims: the first of ``named`` given (its
    form's ``partner`` field, its own query's), else the ``partner`` in its
    Referer's query when that is one of our own addresses (the frame's)."""
    for value in named:
        if isinstance(value, str) and value.strip():
            return value
    if not referer:
        return None
    try:
        parts = urlsplit(referer[:2048])
        ours = {(p.scheme, p.netloc) for p in map(urlsplit, our_addresses)}
    except ValueError:
        return None
    if (parts.scheme, parts.netloc) not in ours or not parts.query:
        return None
    return (parse_qs(parts.query, max_num_fields=20).get(PARTNER_KEY) or [None])[0]


def frame_address(site_url: str, slug: str) -> str:
    """The embed page's address, for the snippets organisers copy."""
    return f"{site_url.rstrip('/')}/c/{slug}/embed"

