"""Updates from organisers to a campaign's supporters: drafting, scheduling,
fan-out into one delivery per recipient (in batches, resumable), progress,
cancelling, and automatic milestone emails."""
from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from . import outbox, update_mail
from .counts import displayed_goal, reached_milestone, signature_count
from .extensions import db, on_postgresql
from .models import (
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Organiser,
    OutboxMessage,
    OutboxStatus,
    Signature,
    SignatureStatus,
    Suppression,
    UpdateStatus,
    utcnow,
)


def _recipients_where(campaign_id: int):
    """Confirmed, opted in, still subscribed, and not suppressed site-wide."""
    return and_(
        Signature.campaign_id == campaign_id,
        Signature.status == SignatureStatus.CONFIRMED,
        Signature.email_opt_in.is_(True),
        Signature.unsubscribed_at.is_(None),
        ~exists().where(Suppression.email_normalised == Signature.email_normalised),
    )


def recipient_count(campaign: Campaign) -> int:
    return db.session.execute(
        select(func.count()).select_from(Signature).where(_recipients_where(campaign.id))
    ).scalar_one()


# --- Drafting and sending ---------------------------------------------------

def create_update(campaign: Campaign, organiser: Organiser | None, subject: str, body: str,
                  scheduled_at: dt.datetime | None = None) -> CampaignUpdate:
    """A draft update; nothing is sent until it is scheduled."""
    row = CampaignUpdate(campaign_id=campaign.id, organiser_id=organiser.id if organiser else None,
                         subject=subject, body=body, scheduled_at=scheduled_at)
    db.session.add(row)
    db.session.commit()
    return row


def send_test(update_row: CampaignUpdate, address: str) -> None:
    """One copy to the organiser, marked as a test; the unsubscribe link is a sample."""
    update_mail.enqueue_test(update_row, address)
    db.session.commit()


def schedule(update_row: CampaignUpdate, when: dt.datetime | None = None) -> None:
    """Send now (or at ``when``, naive UTC)."""
    if update_row.status not in (UpdateStatus.DRAFT, UpdateStatus.SCHEDULED):
        return
    update_row.status = UpdateStatus.SCHEDULED
    update_row.scheduled_at = when or utcnow()
    db.session.commit()


def cancel(update_row: CampaignUpdate) -> int:
    """Stop an update: no more deliveries are created and queued ones are
    skipped. Returns how many queued deliveries were stopped."""
    if update_row.status in (UpdateStatus.CANCELLED,):
        return 0
    update_row.status = UpdateStatus.CANCELLED
    update_row.cancelled_at = utcnow()
    stopped = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.update_id == update_row.id, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.SKIPPED, last_error="update cancelled")
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return stopped


def progress(update_row: CampaignUpdate) -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.update_id == update_row.id)
        .group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys((s.value for s in OutboxStatus), 0)
    counts.update(dict(rows))
    counts["queued"] += counts.pop("sending")
    return counts


def updates_of(campaign: Campaign) -> list[CampaignUpdate]:
    return list(db.session.execute(
        select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign.id)
        .order_by(CampaignUpdate.created_at.desc(), CampaignUpdate.id.desc())
    ).scalars())


# --- Fan-out (run by the outbox worker, not the web process) ----------------

def fan_out_batch() -> bool:
    """Create the next batch of deliveries for one due update, in its own
    transaction with the update's cursor, so a crash resumes where it
    stopped without skipping anyone. Returns False when there was nothing to do."""
    now = utcnow()
    batch_size = current_app.config["BROADCAST_BATCH_SIZE"]
    due = (
        select(CampaignUpdate)
        .where(CampaignUpdate.status.in_([UpdateStatus.SCHEDULED, UpdateStatus.SENDING]),
               CampaignUpdate.scheduled_at <= now, CampaignUpdate.fanout_done_at.is_(None))
        .order_by(CampaignUpdate.scheduled_at).limit(1)
    )
    if on_postgresql():
        # Several workers may fan out different updates; never the same batch.
        due = due.with_for_update(skip_locked=True, of=CampaignUpdate)
    row = db.session.execute(due).scalar_one_or_none()
    if row is None:
        db.session.rollback()
        return False
    row.status = UpdateStatus.SENDING
    # The next slice of the campaign's signatures by id, eligible or not, so
    # the cursor always moves forward.
    next_slice = (
        select(Signature.id).where(Signature.campaign_id == row.campaign_id, Signature.id > row.fanout_cursor)
        .order_by(Signature.id).limit(batch_size).subquery()
    )
    upper = db.session.execute(select(func.max(next_slice.c.id))).scalar_one()
    if upper is None:
        row.fanout_done_at = now
        row.status = UpdateStatus.SENT
        db.session.commit()
        return True
    created = len(db.session.execute(outbox.queue_from(
        update_mail.delivery_kind(row), Signature.email, at=now, update_id=row.id, signature_id=Signature.id,
        where=and_(_recipients_where(row.campaign_id), Signature.id > row.fanout_cursor, Signature.id <= upper,
                   # Resuming over a slice already done creates nobody twice.
                   ~exists().where(OutboxMessage.update_id == row.id, OutboxMessage.signature_id == Signature.id)),
        order_by=Signature.id,
    ).returning(OutboxMessage.id)).all())
    row.fanout_cursor = upper
    row.recipients += created
    db.session.commit()
    return True


# --- Milestones --------------------------------------------------------------

def set_milestone_emails(campaign: Campaign, on: bool) -> None:
    campaign.milestone_emails = on
    db.session.commit()


def queue_milestones() -> int:
    """For campaigns that asked for them, queue one email per milestone
    reached (only the highest if several were passed at once)."""
    queued = 0
    campaigns = db.session.execute(
        select(Campaign).where(Campaign.milestone_emails.is_(True), Campaign.status == CampaignStatus.LIVE)
    ).scalars().all()
    for campaign in campaigns:
        count = signature_count(campaign.id)
        milestone = reached_milestone(count, campaign.goal, campaign.goal_fixed)
        if milestone is None:
            continue
        highest = db.session.execute(
            select(func.max(CampaignUpdate.milestone)).where(CampaignUpdate.campaign_id == campaign.id)
        ).scalar_one()
        if highest is not None and highest >= milestone:
            continue
        db.session.add(CampaignUpdate(
            campaign_id=campaign.id, milestone=milestone, status=UpdateStatus.SCHEDULED, scheduled_at=utcnow(),
            subject=f"We reached {milestone:,} signatures: {campaign.title}",
            body=render_template("email/milestone.md", campaign=campaign, milestone=milestone,
                                 next_goal=displayed_goal(count, campaign.goal, campaign.goal_fixed)),
        ))
        try:
            db.session.commit()
            queued += 1
        except IntegrityError:  # another worker queued the same milestone first
            db.session.rollback()
    return queued


# The outbox worker runs these each turn, before it delivers.
outbox.register_producer(queue_milestones)
outbox.register_producer(fan_out_batch)
