"""Updates from organisers to a campaign's supporters: drafting, scheduling,
fan-out into one delivery per recipient (in batches, resumable), progress,
cancelling, and automatic milestone emails."""
from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from sqlalchemy import and_, exists, func, insert, literal, select, update

from . import outbox
from .extensions import db, on_postgresql
from .links import absolute_url
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
from .signing import displayed_goal, signature_count
from .update_mail import render_update

UPDATE_KIND = "update"


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
    rendered = render_update(update_row, "Organiser", absolute_url("public.unsubscribe", token="test"))
    outbox.enqueue_rendered(kind="update_test", recipient=address, subject=f"[Test] {rendered.subject}",
                            text=rendered.text, html=rendered.html)
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
    counts.update({status: n for status, n in rows})
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
    eligible = (
        select(literal(UPDATE_KIND), Signature.email, literal(row.id), Signature.id,
               literal(OutboxStatus.QUEUED.value), literal(now), literal(now), literal(0), literal(""), literal(""))
        .where(_recipients_where(row.campaign_id), Signature.id > row.fanout_cursor, Signature.id <= upper,
               # Resuming over a slice already done creates nobody twice.
               ~exists().where(OutboxMessage.update_id == row.id, OutboxMessage.signature_id == Signature.id))
        .order_by(Signature.id)
    )
    created = len(db.session.execute(
        insert(OutboxMessage).from_select(
            ["kind", "recipient", "update_id", "signature_id", "status", "created_at", "due_at", "attempts",
             "subject", "body_text"],
            eligible,
        ).returning(OutboxMessage.id)
    ).all())
    row.fanout_cursor = upper
    row.recipients += created
    db.session.commit()
    return True


def fan_out_all() -> None:
    while fan_out_batch():
        pass


# --- Milestones --------------------------------------------------------------

def reached_milestone(count: int, goal: int, fixed: bool) -> int | None:
    """The highest goal the count has reached (the first goal, then each raised one)."""
    if count < goal:
        return None
    if fixed:
        return goal
    milestone = goal
    while True:
        raised = displayed_goal(milestone, goal, False)
        if raised > count:
            return milestone
        milestone = raised


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
        except Exception:  # another worker queued the same milestone first
            db.session.rollback()
    return queued
