"""A business's pause after it pledged: extended by the business from the
link in its confirmation email, and marked resumed by an organiser with a
dated public note and a link to the evidence. Each is an entry of the
business's public timeline (BusinessEvent) and of the audit log.

The extend link is a signed, dated token naming the entry (tokens.
extend_token), sent only to the contact address that pledged, and good for
EXTEND_LINK_DAYS. Whoever holds it (someone the email was forwarded to, a
mailbox that leaked) can only ever *lengthen* the pause: never shorten it,
end it, or change what the entry says; not for an entry its contact address
has not confirmed, nor once an organiser has recorded it resumed; at most
MOST_EXTENSIONS times per entry, each a later day than the last, and every
time in the public timeline and the audit log (no organiser, the client
address hashed: the view records it). The page shows no word the pledger typed (as the confirm
page), only the campaign and the dates."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select, update

from .extensions import db
from .models import (
    Business,
    BusinessEvent,
    BusinessEventKind,
    BusinessStatus,
    Campaign,
    CampaignStatus,
    Organiser,
    utcnow,
)
from .pause_periods import MOST_EXTENSIONS


class ExtendRefusal(StrEnum):
    """Why an extend link extends nothing now."""
    NOT_OPEN = "not open"            # the campaign is a draft
    NOT_CONFIRMED = "not confirmed"  # the contact address has not confirmed the pledge
    NO_PERIOD = "no period"          # pledged before pause periods were asked for
    RESUMED = "resumed"
    OPEN_ENDED = "open ended"        # already until further notice
    TOO_MANY = "too many"


@dataclass(frozen=True)
class ExtendPage:
    """An entry as the extend page shows it: nothing the pledger typed."""
    campaign_slug: str
    campaign_title: str
    pause_start: dt.date | None
    pause_end: dt.date | None
    resumed_on: dt.date | None
    refusal: ExtendRefusal | None


def _extensions(business_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(BusinessEvent).where(
        BusinessEvent.business_id == business_id, BusinessEvent.kind == BusinessEventKind.EXTENDED))


def _refusal(business: Business, campaign: Campaign) -> ExtendRefusal | None:
    if campaign.status == CampaignStatus.DRAFT:
        return ExtendRefusal.NOT_OPEN
    if business.confirmed_at is None:
        return ExtendRefusal.NOT_CONFIRMED
    if business.resumed_on is not None:
        return ExtendRefusal.RESUMED
    if business.pause_start is None:
        return ExtendRefusal.NO_PERIOD
    if business.pause_end is None:
        return ExtendRefusal.OPEN_ENDED
    if _extensions(business.id) >= MOST_EXTENSIONS:
        return ExtendRefusal.TOO_MANY
    return None


def _page(business: Business) -> ExtendPage:
    campaign = db.session.get(Campaign, business.campaign_id)
    return ExtendPage(campaign.slug, campaign.title, business.pause_start, business.pause_end, business.resumed_on,
                      _refusal(business, campaign))


def extend_page(business_id: int) -> tuple[Business, ExtendPage] | None:
    """The entry a link names and what its page shows; None if it is gone."""
    business = db.session.get(Business, business_id)
    return None if business is None else (business, _page(business))


def extend(business: Business, new_end: dt.date | None) -> tuple[ExtendPage, bool]:
    """Move the last day of the pause to ``new_end`` (None: until further
    notice), if the link may still extend it (the page says why not), and
    whether this call did. One guarded UPDATE, so two presses at once
    extend it once, from what the business saw, with its timeline entry."""
    campaign = db.session.get(Campaign, business.campaign_id)
    changed = False
    if _refusal(business, campaign) is None:
        now = utcnow()
        seen_end = business.pause_end
        changed = db.session.execute(
            update(Business).where(Business.id == business.id, Business.pause_end == seen_end,
                                   Business.resumed_on.is_(None))
            .values(pause_end=new_end).execution_options(synchronize_session=False)).rowcount == 1
        if changed:
            db.session.add(BusinessEvent(business_id=business.id, kind=BusinessEventKind.EXTENDED,
                                         happened_on=now.date(), pause_start=business.pause_start,
                                         pause_end=new_end, created_at=now))
        db.session.commit()
    db.session.refresh(business)
    return _page(business), changed


# --- Resuming (organisers) ---------------------------------------------------------

def can_resume(business: Business) -> bool:
    """Only a business on the public list, not yet resumed."""
    return business.status == BusinessStatus.APPROVED and business.resumed_on is None


def mark_resumed(business: Business, organiser: Organiser | None, resumed_on: dt.date, note: str,
                 evidence_url: str) -> bool:
    """Record that the business advertises again since ``resumed_on``, with
    a public note and a link to the evidence; False, and nothing changes,
    if it cannot be (see can_resume). The caller records the audit event
    before, so this commit writes both."""
    if not can_resume(business):
        db.session.rollback()
        return False
    business.resumed_on = resumed_on
    db.session.add(BusinessEvent(business_id=business.id, kind=BusinessEventKind.RESUMED, happened_on=resumed_on,
                                 note=note, evidence_url=evidence_url,
                                 organiser_id=organiser.id if organiser is not None else None))
    db.session.commit()
    return True


def timeline(business: Business) -> list[BusinessEvent]:
    """The entry's timeline, oldest first."""
    return list(db.session.execute(select(BusinessEvent).where(BusinessEvent.business_id == business.id)
                                   .order_by(BusinessEvent.id)).scalars())
