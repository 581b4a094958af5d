"""Businesses joining a boycott: pledges wait for an organiser's approval."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .identity import hash_ip
from .models import Business, BusinessStatus, Campaign, utcnow


@dataclass(frozen=True)
class BusinessPledge:
    organisation: str
    website: str
    contact_email: str
    company_size: str


def organisation_key(name: str) -> str:
    return " ".join(name.casefold().split())


def join_as_business(campaign: Campaign, pledge: BusinessPledge, ip: str | None = None) -> bool:
    """Record a pending business pledge. Returns False if this organisation
    had already joined (nothing changes)."""
    db.session.add(Business(
        campaign_id=campaign.id,
        organisation=pledge.organisation,
        organisation_key=organisation_key(pledge.organisation),
        website=pledge.website,
        contact_email=pledge.contact_email,
        company_size=pledge.company_size,
        ip_hash=hash_ip(ip),
    ))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def decide_business(campaign: Campaign, organisation: str, status: BusinessStatus) -> Business | None:
    """Approve or reject a business pledge by organisation name."""
    business = db.session.execute(
        select(Business).where(
            Business.campaign_id == campaign.id,
            Business.organisation_key == organisation_key(organisation),
        )
    ).scalar_one_or_none()
    if business is None:
        return None
    business.status = status
    business.decided_at = utcnow()
    db.session.commit()
    return business


def approved_businesses(campaign_id: int) -> list[Business]:
    return list(db.session.execute(
        select(Business)
        .where(Business.campaign_id == campaign_id, Business.status == BusinessStatus.APPROVED)
        .order_by(Business.organisation_key)
    ).scalars())


def businesses_of(campaign_id: int) -> list[Business]:
    """Every pledge of a campaign, waiting ones first."""
    return list(db.session.execute(
        select(Business).where(Business.campaign_id == campaign_id)
        .order_by(Business.status, Business.created_at.desc())
    ).scalars())


def counts_by_status(campaign_id: int) -> dict[str, int]:
    return dict(db.session.execute(
        select(Business.status, func.count()).where(Business.campaign_id == campaign_id).group_by(Business.status)
    ).all())
