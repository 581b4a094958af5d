"""Businesses joining a boycott: a pledge is confirmed by its contact
address (the link we email it) and listed once an organiser approves it.

Anyone can type any organisation's name, so a name belongs to no one: each
pledge is an entry of its name *and* its contact address's domain. A later
pledge under the same name from another domain is a separate entry for the
organisers to judge beside the first, never dropped; they see each entry's
contact domain beside its website's and cannot approve an entry whose
contact address has not confirmed."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from . import business_mail, webhooks
from .extensions import db, dialect_insert
from .identity import hash_ip
from .models import (
    Business,
    BusinessEvent,
    BusinessEventKind,
    BusinessStatus,
    Campaign,
    CampaignStatus,
    LinkRefusal,
    utcnow,
)

# A pledge made again under the same name from the same domain asks for
# its confirmation again, but not more often than this per entry (and the
# mailbox's own allowance applies on top).
RESEND_QUIET = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class BusinessPledge:
    organisation: str
    website: str
    contact_email: str
    company_size: str
    # The pause it pledges, both days included; no end is "until further
    # notice", no start a pledge that stated none (see pause_periods).
    pause_start: dt.date | None = None
    pause_end: dt.date | None = None
    # The language of the page it was made on: its emails are written in
    # it. None: the campaign's default language.
    language: str | None = None


def organisation_key(name: str) -> str:
    return " ".join(name.casefold().split())


def contact_domain(address: str) -> str:
    """The domain of a contact address, lower case."""
    return address.rpartition("@")[2].strip().lower()[:255]


# --- Pledging ---------------------------------------------------------------------

def join_as_business(campaign: Campaign, pledge: BusinessPledge, ip: str | None = None) -> bool:
    """Record a pending pledge and queue the email that asks its contact
    address to confirm it. Returns False if this name had already joined
    from this contact domain: nothing new is stored, and an entry still
    waiting for its confirmation is sent the email again (to the address it
    was made with), at most once per RESEND_QUIET. The caller shows the same
    page either way."""
    domain = contact_domain(pledge.contact_email)
    key = organisation_key(pledge.organisation)
    now = utcnow()
    business_id = db.session.execute(
        dialect_insert(Business).values(
            campaign_id=campaign.id,
            organisation=pledge.organisation,
            organisation_key=key,
            website=pledge.website,
            contact_email=pledge.contact_email,
            contact_domain=domain,
            company_size=pledge.company_size,
            status=BusinessStatus.PENDING,
            created_at=now,
            last_emailed_at=now,
            ip_hash=hash_ip(ip),
            pause_start=pledge.pause_start,
            pause_end=pledge.pause_end,
            language=pledge.language,
        ).on_conflict_do_nothing(index_elements=["campaign_id", "organisation_key", "contact_domain"])
        .returning(Business.id)
    ).scalar_one_or_none()
    if business_id is not None:
        db.session.add(BusinessEvent(business_id=business_id, kind=BusinessEventKind.PLEDGED, happened_on=now.date(),
                                     pause_start=pledge.pause_start, pause_end=pledge.pause_end, created_at=now))
        business_mail.queue_confirmation(business_id, pledge.contact_email)
    else:
        _ask_again(campaign.id, key, domain, now)
    db.session.commit()
    return business_id is not None


def _ask_again(campaign_id: int, key: str, domain: str, now: dt.datetime) -> None:
    """Queue the confirmation email again for the entry of this name and
    domain, if it is still waiting for one and none went out recently: one
    guarded UPDATE claims the resend, so racing pledges send it once."""
    entry = db.session.execute(
        update(Business).where(
            Business.campaign_id == campaign_id, Business.organisation_key == key,
            Business.contact_domain == domain, Business.status == BusinessStatus.PENDING,
            Business.confirmed_at.is_(None),
            or_(Business.last_emailed_at.is_(None), Business.last_emailed_at < now - RESEND_QUIET))
        .values(last_emailed_at=now).returning(Business.id, Business.contact_email)
        .execution_options(synchronize_session=False)
    ).first()
    if entry is not None:
        business_mail.queue_confirmation(entry.id, entry.contact_email)


# --- Confirming -------------------------------------------------------------------

@dataclass(frozen=True)
class PledgeConfirmation:
    """A business entry as its confirmation pages show it. Nothing the
    pledger typed: the person holding the link may not be the one who
    pledged."""
    campaign_slug: str
    campaign_title: str
    pledge_text: str
    confirmed: bool
    refusal: LinkRefusal | None = None
    confirmed_now: bool = False  # this request confirmed it


def _link_expired(now: dt.datetime):
    """Whether the entry's confirmation link is older than CONFIRM_LINK_DAYS:
    counted from the latest email that carried one."""
    expired_before = now - dt.timedelta(days=current_app.config["CONFIRM_LINK_DAYS"])
    return func.coalesce(Business.last_emailed_at, Business.created_at) < expired_before


def confirmation_page(business_id: int) -> PledgeConfirmation | None:
    """What the link of an entry shows; None if the entry is gone. Changes nothing."""
    row = db.session.execute(
        select(Business.confirmed_at, Campaign.slug, Campaign.title, Campaign.pledge_text, Campaign.status,
               _link_expired(utcnow()).label("link_expired"))
        .join(Campaign, Campaign.id == Business.campaign_id).where(Business.id == business_id)
    ).first()
    if row is None:
        return None
    confirmed = row.confirmed_at is not None
    return PledgeConfirmation(row.slug, row.title, row.pledge_text, confirmed,
                              _refusal(row.status, confirmed, bool(row.link_expired)))


def _refusal(campaign_status: str, confirmed: bool, link_expired: bool) -> LinkRefusal | None:
    if campaign_status == CampaignStatus.DRAFT:
        return LinkRefusal.NOT_OPEN
    if campaign_status == CampaignStatus.CLOSED:
        return LinkRefusal.CLOSED
    if link_expired and not confirmed:
        return LinkRefusal.EXPIRED
    return None


def confirm_pledge(business_id: int) -> PledgeConfirmation | None:
    """Record that the entry's contact address confirmed it, once: a second
    confirmation changes nothing; nor does a link that has expired or a
    campaign that is not live (the page says why)."""
    now = utcnow()
    campaign_is_live = select(Campaign.id).where(
        Campaign.id == Business.campaign_id, Campaign.status == CampaignStatus.LIVE).exists()
    confirmed_now = db.session.execute(
        update(Business).where(Business.id == business_id, Business.confirmed_at.is_(None), campaign_is_live,
                               ~_link_expired(now))
        .values(confirmed_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    page = confirmation_page(business_id)
    if page is None:
        return None
    return PledgeConfirmation(page.campaign_slug, page.campaign_title, page.pledge_text, page.confirmed,
                              page.refusal, confirmed_now)


# --- Deciding ---------------------------------------------------------------------

def business_of(campaign: Campaign, business_id: int) -> Business | None:
    """One entry of ``campaign``; None if there is none by that id in it."""
    business = db.session.get(Business, business_id)
    return business if business is not None and business.campaign_id == campaign.id else None


def can_decide(business: Business, status: BusinessStatus) -> bool:
    """Any entry may be rejected; only one whose contact address has
    confirmed may be approved."""
    return status != BusinessStatus.APPROVED or business.confirmed_at is not None


def decide(business: Business, status: BusinessStatus) -> bool:
    """Approve or reject one entry. False, and nothing changes, for an
    approval the entry's contact address has not confirmed."""
    if not can_decide(business, status):
        return False
    if status == BusinessStatus.APPROVED and business.status != BusinessStatus.APPROVED:
        webhooks.queue_event(webhooks.BUSINESS_APPROVED, business.campaign_id, business_id=business.id)
    business.status = status
    business.decided_at = utcnow()
    db.session.commit()
    return True


def decide_business(campaign: Campaign, organisation: str, status: BusinessStatus) -> Business | None:
    """Approve or reject the entry under an organisation name, for the
    command line. None, and nothing changes, when no entry has that name,
    when several do (pledges from different contact domains: decide those
    by id on the businesses screen), or when approving an entry whose
    contact address has not confirmed."""
    entries = entries_named(campaign, organisation)
    if len(entries) != 1:
        return None
    return entries[0] if decide(entries[0], status) else None


def entries_named(campaign: Campaign, organisation: str) -> list[Business]:
    """Every entry of ``campaign`` under this organisation name (one per contact domain)."""
    return list(db.session.execute(
        select(Business).where(Business.campaign_id == campaign.id,
                               Business.organisation_key == organisation_key(organisation))
        .order_by(Business.id)).scalars())


# --- Reading ----------------------------------------------------------------------

def approved_businesses(campaign_id: int) -> list[Business]:
    """The public list, each with its timeline."""
    return list(db.session.execute(
        select(Business).options(selectinload(Business.events))
        .where(Business.campaign_id == campaign_id, Business.status == BusinessStatus.APPROVED)
        .order_by(Business.organisation_key)
    ).scalars())


def businesses_of(campaign_id: int) -> list[Business]:
    """Every pledge of a campaign, waiting ones first."""
    return list(db.session.execute(
        select(Business).where(Business.campaign_id == campaign_id)
        .order_by(Business.status, Business.created_at.desc())
    ).scalars())


@dataclass(frozen=True)
class Review:
    """An entry as the organisers judge it: whose domain its contact address
    is at, against its website's."""
    business: Business
    website_domain: str

    @property
    def contact_domain(self) -> str:
        return self.business.contact_domain

    @property
    def domains_match(self) -> bool:
        return contact_matches_website(self.business.contact_domain, self.website_domain)

    @property
    def confirmed(self) -> bool:
        return self.business.confirmed_at is not None

    @property
    def can_approve(self) -> bool:
        return can_decide(self.business, BusinessStatus.APPROVED)


def for_review(campaign_id: int) -> list[Review]:
    """Every pledge of a campaign, with its domains, as ``businesses_of`` orders them."""
    return [Review(business, website_domain(business.website)) for business in businesses_of(campaign_id)]


def website_domain(website: str) -> str:
    """The host of a website address, lower case, without "www." and in
    the ASCII form email domains are stored in."""
    try:
        host = (urlsplit(website).hostname or "").rstrip(".")
    except ValueError:
        return ""
    return _bare(_ascii_domain(host))


def contact_matches_website(contact: str, website: str) -> bool:
    """Whether a contact domain is the website's domain or one under it
    (mail.acme.example for acme.example). Simple on purpose: the organisers
    judge, this only draws their eye to a difference."""
    contact, website = _bare(contact), _bare(website)
    return bool(website) and (contact == website or contact.endswith("." + website))


def _bare(domain: str) -> str:
    domain = domain.lower()
    return domain[4:] if domain.startswith("www.") else domain


def _ascii_domain(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def counts_by_status(campaign_id: int) -> dict[str, int]:
    return dict(db.session.execute(
        select(Business.status, func.count()).where(Business.campaign_id == campaign_id).group_by(Business.status)
    ).all())
