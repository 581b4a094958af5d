"""Share links and where signatures came from, as signers and organisers
see them.

Every signature gets a referral code when it is made (see signing and
provenance); its share link is the campaign's address with ``?ref=<code>``,
and a signature made through it names the signature whose link it was. A
signer sees only their own link and how many confirmed signatures it
brought (the page after confirming, and the "your impact" page linked from
later emails), never who signed through it. Organisers see where confirmed
signatures came from: by source, by medium, by referrer (first name and
country only, never an address) and by day. The database does the counting
(GROUP BY); the lists on a page are capped, since anyone can make up a
source by editing a link (the export has every one)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Date, case, func, select
from sqlalchemy.orm import aliased

from . import sharing
from .extensions import db
from .links import absolute_url
from .models import Campaign, CampaignStatus, Signature, SignatureStatus
from .provenance import share_link as _share_link

# Signatures that came with no source are counted under this one (it is
# never a real source: normalising leaves no empty code).
NO_SOURCE = ""
# How much of each list the Sources page shows.
TOP_SOURCES = 50
TOP_REFERRERS = 20
# The by-day table: a column for each of the top few sources (the rest
# together in one more), over the last DAYS days with a confirmation.
DAY_COLUMNS = 5
DAYS = 30


# --- What a signer sees ------------------------------------------------------------

@dataclass(frozen=True)
class ShareLink:
    url: str
    referred: int  # confirmed signatures made through it


@dataclass(frozen=True)
class Impact:
    """A signer's "your impact" page: their campaign (what its link preview
    and its languages need too), their link, its count."""
    slug: str
    title: str
    share_text: str
    link: ShareLink
    edition: int
    image_filename: str | None
    id: int  # the campaign's
    default_language: str
    published_languages: list[str]


def _confirmed_through(referrer_id):
    """How many confirmed signatures name ``referrer_id`` as their referrer."""
    referred = aliased(Signature)
    return (select(func.count()).where(referred.referred_by_id == referrer_id,
                                       referred.status == SignatureStatus.CONFIRMED.value)
            .scalar_subquery())


def _own_link(signature_id: int):
    """The signature's code, status, campaign and share count, in one read,
    on a connection of its own returned at once: a session holding one
    while the page renders (and reads the site's settings on another) would
    let a crowd of confirmations take every connection and wait for more."""
    with db.engine.connect() as own:
        return own.execute(
            select(Signature.referral_code, Signature.status, Campaign.slug, Campaign.title, Campaign.share_text,
                   Campaign.status.label("campaign_status"), Campaign.edition, Campaign.image_filename,
                   Campaign.id.label("campaign_id"), Campaign.default_language, Campaign.published_languages,
                   _confirmed_through(Signature.id).label("referred"))
            .join(Campaign, Campaign.id == Signature.campaign_id)
            .where(Signature.id == signature_id)).one_or_none()


def share_link(signature_id: int) -> ShareLink | None:
    """A confirmed signature's share link and what it brought; None for any
    other (a pending one's code is not yet worth sharing, an invalidated
    one's credits nobody)."""
    row = _own_link(signature_id)
    return None if row is None else _link_of(row)


def _link_of(row) -> ShareLink | None:
    if row.status != SignatureStatus.CONFIRMED or not row.referral_code:
        return None
    return ShareLink(_share_link(absolute_url("public.campaign_page", slug=row.slug), row.referral_code),
                     int(row.referred))


def impact(slug: str, signature_id: int) -> Impact | None:
    """The impact page of a confirmed signature of public campaign ``slug``;
    None if the signature is of another campaign, not confirmed, or its
    campaign is a draft."""
    row = _own_link(signature_id)
    if row is None or row.slug != slug or row.campaign_status == CampaignStatus.DRAFT:
        return None
    link = _link_of(row)
    if link is None:
        return None
    return Impact(row.slug, row.title, row.share_text or row.title, link, row.edition, row.image_filename,
                  row.campaign_id, row.default_language, list(row.published_languages or ()))


def personal_share(campaign, url: str) -> dict:
    """The share buttons and link (as sharing.share_links gives them) for a
    signer's own ``url``; ``campaign`` needs a title and share_text. Built
    afresh: one person's links are not worth a place in the shared cache."""
    title = campaign.title
    return {"url": url, "links": sharing._links.__wrapped__(url, title, campaign.share_text or title, _("Email"))}


# --- What organisers see ------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    name: str  # NO_SOURCE for none
    signatures: int


@dataclass(frozen=True)
class Referrer:
    given_name: str
    country: str
    signatures: int


@dataclass(frozen=True)
class Day:
    day: dt.date
    signatures: tuple[int, ...]  # one per column of the report's day_columns


@dataclass(frozen=True)
class SourcesReport:
    confirmed: int
    sources: list[Tally]
    source_count: int  # how many sources in all (the list may show fewer)
    mediums: list[Tally]
    medium_count: int
    through_links: int  # confirmed signatures made through a signer's link
    referrers: int      # how many signers' links brought at least one
    top_referrers: list[Referrer]
    day_columns: list[str]  # source names; None: every other source
    days: list[Day]


def _confirmed(campaign_id: int):
    return (Signature.campaign_id == campaign_id, Signature.status == SignatureStatus.CONFIRMED.value)


def _tallies(campaign_id: int, column, limit: int | None) -> list[Tally]:
    # Grouped by the label: the expression holds a parameter, which
    # PostgreSQL would not see as the same in two places.
    name = func.coalesce(column, NO_SOURCE).label("name")
    total = func.count().label("total")
    query = (select(name, total).where(*_confirmed(campaign_id))
             .group_by(name).order_by(total.desc(), name))
    if limit is not None:
        query = query.limit(limit)
    return [Tally(value, int(n)) for value, n in db.session.execute(query)]


def counts_by_source(campaign_id: int, limit: int | None = None) -> list[Tally]:
    """Confirmed signatures by source, most first (NO_SOURCE for none)."""
    return _tallies(campaign_id, Signature.source, limit)


def counts_by_medium(campaign_id: int, limit: int | None = None) -> list[Tally]:
    return _tallies(campaign_id, Signature.medium, limit)


def top_referrers(campaign_id: int, limit: int = TOP_REFERRERS) -> list[Referrer]:
    """The signers whose links brought the most confirmed signatures, by
    first name and country only."""
    counted = (select(Signature.referred_by_id.label("referrer_id"), func.count().label("n"))
               .where(*_confirmed(campaign_id), Signature.referred_by_id.is_not(None))
               .group_by(Signature.referred_by_id)
               .order_by(func.count().desc(), Signature.referred_by_id).limit(limit).subquery())
    referrer = aliased(Signature)
    rows = db.session.execute(
        select(referrer.given_name, referrer.country, counted.c.n)
        .join(counted, counted.c.referrer_id == referrer.id)
        .order_by(counted.c.n.desc(), counted.c.referrer_id))
    return [Referrer(given_name, country, int(n)) for given_name, country, n in rows]


def _by_day(campaign_id: int, columns: list[str], others: bool) -> list[Day]:
    """Confirmed signatures per day (UTC) of the last DAYS days up to the
    latest confirmation, in the given source columns (and one for every
    other source)."""
    latest = db.session.execute(select(func.max(Signature.confirmed_at)).where(*_confirmed(campaign_id))).scalar()
    if latest is None or not columns:
        return []
    since = dt.datetime.combine(latest.date() - dt.timedelta(days=DAYS - 1), dt.time())
    name = func.coalesce(Signature.source, NO_SOURCE)
    bucket = case((name.in_(columns), name), else_=None).label("bucket")
    day = func.date(Signature.confirmed_at, type_=Date).label("day")
    total = func.count().label("total")
    rows = db.session.execute(select(day, bucket, total)
                              .where(*_confirmed(campaign_id), Signature.confirmed_at >= since)
                              .group_by(day, bucket))
    at = {name: i for i, name in enumerate(columns)}
    width = len(columns) + (1 if others else 0)
    figures: dict[dt.date, list[int]] = {}
    for row in rows:
        # SQLite answers date() with text.
        when = row.day if isinstance(row.day, dt.date) else dt.date.fromisoformat(str(row.day)[:10])
        figures.setdefault(when, [0] * width)[at.get(row.bucket, width - 1)] += int(row.total)
    return [Day(when, tuple(line)) for when, line in sorted(figures.items(), reverse=True)]


def sources_report(campaign_id: int) -> SourcesReport:
    """Everything the organisers' Sources page shows."""
    totals = db.session.execute(
        select(func.count(), func.count(func.distinct(func.coalesce(Signature.source, NO_SOURCE))),
               func.count(func.distinct(func.coalesce(Signature.medium, NO_SOURCE))),
               func.count(Signature.referred_by_id), func.count(func.distinct(Signature.referred_by_id)))
        .where(*_confirmed(campaign_id))).one()
    confirmed, source_count, medium_count, through_links, referrers = (int(n) for n in totals)
    sources = counts_by_source(campaign_id, TOP_SOURCES)
    columns = [tally.name for tally in sources[:DAY_COLUMNS]]
    others = source_count > len(columns)
    return SourcesReport(
        confirmed=confirmed, sources=sources, source_count=source_count,
        mediums=counts_by_medium(campaign_id, TOP_SOURCES), medium_count=medium_count,
        through_links=through_links, referrers=referrers, top_referrers=top_referrers(campaign_id),
        day_columns=columns + ([None] if others else []), days=_by_day(campaign_id, columns, others))
