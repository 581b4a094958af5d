"""Pledge follow-through: the reasons signers give. A reason is shown on the
campaign page only when its signer agreed (ticked "Show my reason") and an
organiser of the campaign approved it; with the signer's first name only if
they chose to show their name. Organisers see the reasons waiting, oldest
first, and approve or reject each; the page changes with its edition."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from .extensions import db
from .models import Campaign, ReasonStatus, Signature, SignatureStatus, utcnow

# How many approved reasons the campaign page shows, newest first.
PUBLIC_REASONS = 12


@dataclass(frozen=True)
class PublicReason:
    signature_id: int
    text: str
    given_name: str | None  # None: the signer did not choose to show their name
    country: str
    pledge_date: dt.date | None


@dataclass(frozen=True)
class WaitingReason:
    signature_id: int
    text: str
    given_name: str
    country: str
    pledge_date: dt.date | None
    confirmed_at: dt.datetime


def _shown(campaign_id: int, status: ReasonStatus):
    return (Signature.campaign_id == campaign_id, Signature.status == SignatureStatus.CONFIRMED,
            Signature.reason_public.is_(True), Signature.reason_status == status)


def public_reasons(campaign_id: int, limit: int = PUBLIC_REASONS) -> list[PublicReason]:
    rows = db.session.execute(
        select(Signature.id, Signature.reason, Signature.given_name, Signature.show_name, Signature.country,
               Signature.pledge_date)
        .where(*_shown(campaign_id, ReasonStatus.APPROVED))
        .order_by(Signature.reason_reviewed_at.desc(), Signature.id.desc()).limit(limit))
    return [PublicReason(r.id, r.reason, r.given_name if r.show_name else None, r.country, r.pledge_date)
            for r in rows]


def waiting(campaign: Campaign, limit: int = 100) -> list[WaitingReason]:
    """Reasons of confirmed signatures waiting for a decision, oldest first."""
    rows = db.session.execute(
        select(Signature.id, Signature.reason, Signature.given_name, Signature.country, Signature.pledge_date,
               Signature.confirmed_at)
        .where(*_shown(campaign.id, ReasonStatus.PENDING))
        .order_by(Signature.confirmed_at, Signature.id).limit(limit))
    return [WaitingReason(*row) for row in rows]


def waiting_count(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)
                             .where(*_shown(campaign.id, ReasonStatus.PENDING)))


def decide(campaign: Campaign, signature_id: int, approve: bool) -> bool:
    """Approve or reject one waiting reason of ``campaign``; False if there
    is no such reason waiting (decided already, or another campaign's)."""
    return _move(campaign, signature_id, ReasonStatus.PENDING,
                 ReasonStatus.APPROVED if approve else ReasonStatus.REJECTED)


def take_down(campaign: Campaign, signature_id: int) -> bool:
    """Takes an approved reason off the page (rejected from now on)."""
    return _move(campaign, signature_id, ReasonStatus.APPROVED, ReasonStatus.REJECTED)


def _move(campaign: Campaign, signature_id: int, was: ReasonStatus, becomes: ReasonStatus) -> bool:
    """One reason from ``was`` to ``becomes``; a change to what the page
    shows (an approval, a take-down) raises the campaign's edition."""
    moved = db.session.execute(
        update(Signature).where(Signature.id == signature_id, *_shown(campaign.id, was))
        .values(reason_status=becomes, reason_reviewed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if moved and ReasonStatus.APPROVED in (was, becomes):
        db.session.execute(update(Campaign).where(Campaign.id == campaign.id)
                           .values(edition=Campaign.edition + 1).execution_options(synchronize_session=False))
    db.session.commit()
    return bool(moved)
