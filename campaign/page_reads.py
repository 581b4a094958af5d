"""What a public page reads of a campaign on each request, in one round trip.

Everything else a page shows (the title, the story, the form, the
questions, the approved businesses) changes only when an organiser edits
the campaign, which raises its ``edition``: pages keep those parts built
once per edition (see campaign/campaign_page). What can change between two
visits is read here, by slug, in one statement: the campaign's status,
edition, goal and window, its confirmed count from the tallies, and (for
the campaign page) its latest public signers.

On PostgreSQL the statement runs on an autocommit connection: no BEGIN
before it and no ROLLBACK after it, one round trip in all.

What is read is kept for PUBLIC_LIVE_SECONDS in the process: in a spike, a
campaign's pages and count.json read the database once a second per
process, whoever asks and whatever cookies they carry."""
from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import bindparam, select, true

from . import check_ins, counts
from .campaigns import where_slug
from .extensions import db
from .models import Campaign, CampaignStatus, Signature, SignatureStatus, WindowState, window_state
from .statements import cached, connection

RECENT_SIGNERS = 10


@dataclass(frozen=True)
class LiveCampaign:
    """What may change on a public page between two requests."""

    id: int
    slug: str
    status: str
    edition: int
    goal: int
    goal_fixed: bool
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    count: int
    # (first name, country) of the latest confirmed signers who chose to be shown.
    signers: tuple[tuple[str, str], ...] = ()
    # How many answered "I took part" to a freeze's check-in (see check_ins).
    took_part: int = 0
    # When it was read (time.monotonic()): pages made from it are that old.
    read_at: float = field(default_factory=time.monotonic, compare=False)
    # The languages it is read in (see translations.language_of): which one
    # a page shows is decided on each request, before anything is built.
    default_language: str = "en"
    published_languages: tuple[str, ...] = ()

    @property
    def is_public(self) -> bool:
        return self.status != CampaignStatus.DRAFT

    @property
    def displayed_goal(self) -> int:
        return counts.displayed_goal(self.count, self.goal, self.goal_fixed)

    def window_state(self, now: dt.datetime | None = None) -> WindowState:
        return window_state(self.window_start, self.window_end, now)


_LIVE = ("id", "slug", "status", "edition", "goal", "goal_fixed", "window_start", "window_end")
_LANGUAGES = ("default_language", "published_languages")


def _campaign_id():
    return select(Campaign.id).where(Campaign.slug == bindparam("slug")).scalar_subquery()


def _live_query(with_signers: bool):
    campaign = Campaign.__table__
    columns = [campaign.c[name] for name in (*_LIVE, *_LANGUAGES)]
    query = select(*columns, counts.confirmed_count(campaign.c.id).label("count"),
                   check_ins.took_part_count(campaign.c.id).label("took_part"))
    if not with_signers:
        return query.where(campaign.c.slug == bindparam("slug"))
    # The count once, beside up to ten signer rows (or one row of NULLs).
    tally = select(counts.confirmed_count(_campaign_id()).label("count")).subquery("tally")
    recent = (select(Signature.given_name, Signature.country, Signature.confirmed_at)
              .where(Signature.campaign_id == _campaign_id(),
                     Signature.status == SignatureStatus.CONFIRMED.value,
                     Signature.show_name.is_(True))
              .order_by(Signature.confirmed_at.desc())
              .limit(RECENT_SIGNERS)
              .subquery("recent"))
    return (select(*columns, tally.c.count, check_ins.took_part_count(campaign.c.id).label("took_part"),
                   recent.c.given_name, recent.c.country)
            .select_from(campaign.join(tally, true()).outerjoin(recent, true()))
            .where(campaign.c.slug == bindparam("slug"))
            .order_by(recent.c.confirmed_at.desc()))


class _Kept:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.campaigns: TTLCache = TTLCache(maxsize=1000, ttl=seconds)
        self.lock = threading.Lock()


def live_campaign(slug: str, with_signers: bool = True) -> LiveCampaign | None:
    """The campaign ``slug`` as it is now (at most PUBLIC_LIVE_SECONDS ago),
    or None if there is none. Drafts too: callers decide who may see them."""
    seconds = current_app.config["PUBLIC_LIVE_SECONDS"]
    if seconds <= 0:
        return read_campaign(slug, with_signers)
    kept = current_app.extensions.get("page_reads")
    if kept is None or kept.seconds != seconds:
        kept = current_app.extensions["page_reads"] = _Kept(seconds)
    with kept.lock:
        live = kept.campaigns.get((slug, True)) or kept.campaigns.get((slug, with_signers))
    if live is None:
        live = read_campaign(slug, with_signers)
        if live is not None:  # not kept: made-up slugs would push real campaigns out
            with kept.lock:
                kept.campaigns[(slug, with_signers)] = live
    return live


def read_campaign(slug: str, with_signers: bool = True) -> LiveCampaign | None:
    """``live_campaign`` read from the database now."""
    if where_slug(slug) is None:  # no campaign can have this slug
        return None
    statement = cached(f"live campaign{' and signers' if with_signers else ''}",
                       lambda: _live_query(with_signers))
    with connection() as own:
        rows = (own or db.session.connection()).execute(statement, {"slug": slug}).all()
    if not rows:
        return None
    first = rows[0]
    signers = tuple((row.given_name, row.country) for row in rows if row.given_name is not None) \
        if with_signers else ()
    return LiveCampaign(*(getattr(first, name) for name in _LIVE), int(first.count), signers,
                        took_part=int(first.took_part), default_language=first.default_language,
                        published_languages=tuple(first.published_languages or ()))


def campaign_now(campaign: Campaign) -> LiveCampaign:
    """The same for a campaign already loaded (an organiser's preview)."""
    live = read_campaign(campaign.slug)
    assert live is not None
    return live
