"""Leaving: one-click unsubscribe from a campaign's updates, or from every
email of the site."""
from __future__ import annotations

from sqlalchemy import select, update

from . import tokens, webhooks
from .extensions import db, dialect_insert
from .models import Campaign, CampaignStatus, Signature, SignatureStatus, Suppression, utcnow


def signature_for_unsubscribe(token: str) -> Signature | None:
    return tokens.signature_for(tokens.UNSUBSCRIBE, token)


def unsubscribe(signature: Signature) -> None:
    """No more updates from this signature's campaign; repeating is harmless."""
    stopped = db.session.execute(
        update(Signature).where(Signature.id == signature.id, Signature.unsubscribed_at.is_(None))
        .values(unsubscribed_at=utcnow()).returning(Signature.campaign_id).execution_options(synchronize_session=False)
    ).all()
    for row in stopped:
        webhooks.queue_event(webhooks.SUPPORTER_UNSUBSCRIBED, row.campaign_id, signature_id=signature.id)
    db.session.commit()


def stop_all_email(signature: Signature) -> None:
    """No more email of any kind to this address, from any campaign."""
    address = signature.email_normalised
    db.session.execute(dialect_insert(Suppression).values(email_normalised=address, created_at=utcnow())
                       .on_conflict_do_nothing(index_elements=["email_normalised"]))
    stopped = db.session.execute(
        update(Signature).where(Signature.email_normalised == address, Signature.unsubscribed_at.is_(None))
        .values(unsubscribed_at=utcnow()).returning(Signature.id, Signature.campaign_id)
        .execution_options(synchronize_session=False)
    ).all()
    # Each campaign they signed that was still sending them its updates.
    for row in stopped:
        webhooks.queue_event(webhooks.SUPPORTER_UNSUBSCRIBED, row.campaign_id, signature_id=row.id)
    db.session.commit()


def waiting_while_stopped(signature: Signature) -> list[tuple[str, int]] | None:
    """If this signature's mailbox stopped all email: the (campaign title,
    signature id) of its signatures still waiting for confirmation on live
    campaigns, which we did not mail it about. The unsubscribe link that
    leads here was emailed to that mailbox, so it may confirm them. None
    if the mailbox did not stop all email."""
    address = signature.email_normalised
    if db.session.get(Suppression, address) is None:
        return None
    return [(title, signature_id) for title, signature_id in db.session.execute(
        select(Campaign.title, Signature.id).join(Campaign, Campaign.id == Signature.campaign_id)
        .where(Signature.email_normalised == address, Signature.status == SignatureStatus.PENDING,
               Campaign.status == CampaignStatus.LIVE).order_by(Signature.created_at))]
