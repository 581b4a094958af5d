"""Updates from organisers to a campaign's supporters: drafting (a version
per language the campaign speaks, each optional but the default),
scheduling, fan-out into one delivery per recipient (in batches,
resumable), progress, cancelling, and automatic milestone emails."""
from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from . import outbox, update_mail, webhooks
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
from .translations import campaign_text, language_of


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


def recipients_by_language(campaign: Campaign) -> dict[str, int]:
    """How many supporters an update would go to now, by the language its
    email to them is written in (the one they signed in, if the campaign
    still speaks it; see translations.language_of)."""
    found: dict[str, int] = {}
    for language, supporters in db.session.execute(
            select(Signature.language, func.count()).where(_recipients_where(campaign.id))
            .group_by(Signature.language)).all():
        language = language_of(campaign, language)
        found[language] = found.get(language, 0) + supporters
    return found


def falling_back(update_row: CampaignUpdate, by_language: dict[str, int]) -> list[tuple[str, int]]:
    """The languages of ``by_language`` that ``update_row`` has no version
    in, with how many supporters read them, most first: they get its
    default version."""
    written = set(update_mail.versions(update_row))
    return sorted(((language, supporters) for language, supporters in by_language.items()
                   if language not in written and supporters), key=lambda item: (-item[1], item[0]))


# --- Drafting and sending ---------------------------------------------------

def create_update(campaign: Campaign, organiser: Organiser | None, subject: str, body: str,
                  scheduled_at: dt.datetime | None = None,
                  translations: dict[str, dict[str, str]] | None = None) -> CampaignUpdate:
    """A draft update, with its versions in other languages
    (``{language: {"subject": ..., "body": ...}}``); nothing is sent until
    it is scheduled."""
    row = CampaignUpdate(campaign_id=campaign.id, organiser_id=organiser.id if organiser else None,
                         subject=subject, body=body, scheduled_at=scheduled_at, translations=translations or None)
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


def _milestone_text(campaign: Campaign, language: str, milestone: int, next_goal: int) -> tuple[str, str]:
    """A milestone email's subject and body (Markdown) in ``language``: our
    own words, so every language the campaign speaks has its version."""
    with force_locale(language):
        title = campaign_text(campaign, language).title
        return (_("We reached %(count)s signatures: %(title)s", count=format_decimal(milestone), title=title),
                render_template("email/milestone.md", title=title, milestone=milestone, next_goal=next_goal))


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
        next_goal = displayed_goal(count, campaign.goal, campaign.goal_fixed)
        subject, body = _milestone_text(campaign, campaign.default_language, milestone, next_goal)
        db.session.add(CampaignUpdate(
            campaign_id=campaign.id, milestone=milestone, status=UpdateStatus.SCHEDULED, scheduled_at=utcnow(),
            subject=subject, body=body, translations={
                language: dict(zip(("subject", "body"), _milestone_text(campaign, language, milestone, next_goal),
                                   strict=True))
                for language in campaign.published_languages or () if language != campaign.default_language
            } or None,
        ))
        webhooks.queue_event(webhooks.CAMPAIGN_MILESTONE, campaign.id, data={"milestone": milestone})
        try:
            db.session.commit()
            queued += 1
        except IntegrityError:  # another worker queued the same milestone first
            db.session.rollback()
    return queued


# The outbox worker runs these each turn, before it delivers.
outbox.register_producer(queue_milestones)
outbox.register_producer(fan_out_batch)
