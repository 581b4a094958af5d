"""A freeze's emails to the confirmed signers who asked for them (the
sign form's reminder box): a reminder the day before their window, one
when it starts, each with the statement to post; and, if the organiser
switched it on, "Did you take part?" once it has ended, with the two
answers. For a freeze at the same local hours everywhere, "their window"
is those hours in their own time zone.

The producer (run by the outbox worker each turn) finds who is due and,
in one transaction per batch, stamps each signature's ``reminded_*_at`` /
``check_in_asked_at`` with a guarded UPDATE (only where it is still empty)
and queues the messages of the rows it stamped: however many workers run
it at once, each signature gets each email once. A stamp is never undone,
so moving the window after an email went does not send it again.

Each is late by design only within reason: the day-before reminder goes
until an hour before the start, the start reminder until the end, the
question for CHECK_IN_DAYS after the end; past that it is not sent (a
worker that was down does not send "it starts tomorrow" after the start).
At send time each is skipped if the signer meanwhile withdrew, unticked
reminders or unsubscribed (and, by the mailbox rules, if their mailbox
stopped all email); the question also if they already answered. Each is
written in the language the signer signed in, dates and times included."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select, update

from . import formats, outbox, tokens
from .extensions import db
from .links import absolute_url
from .mail_merge import MailMerge, OutgoingEmail, render_email
from .models import Campaign, CampaignStatus, Kind, Signature, SignatureStatus, utcnow
from .skeletons import slot
from .still_wanted import signature_still_wanted
from .translations import campaign_text, language_of
from .windows import signer_window

DAY_BEFORE = "freeze_day_before"
START = "freeze_start"
CHECK_IN = "freeze_check_in"
CHECK_IN_DAYS = 7


def clock() -> dt.datetime:
    """Now, naive UTC: when each email is due (tests set it)."""
    return utcnow()


@dataclass(frozen=True)
class _Step:
    kind: str
    stamp: str                   # the signature's column that says it was queued
    # From when until when it is worth sending, given the signer's window.
    due: object
    until: object
    template: str


_STEPS = (
    _Step(DAY_BEFORE, "reminded_day_before_at", lambda s, e: s - dt.timedelta(days=1),
          lambda s, e: s - dt.timedelta(hours=1), "freeze_reminder"),
    _Step(START, "reminded_start_at", lambda s, e: s, lambda s, e: e, "freeze_reminder"),
    _Step(CHECK_IN, "check_in_asked_at", lambda s, e: e, lambda s, e: e + dt.timedelta(days=CHECK_IN_DAYS),
          "freeze_check_in"),
)
_BY_KIND = {step.kind: step for step in _STEPS}


def _wanted_by(campaign_id: int):
    """Confirmed signers of the campaign who asked for reminders and stayed."""
    return (Signature.campaign_id == campaign_id, Signature.status == SignatureStatus.CONFIRMED.value,
            Signature.reminder_opt_in.is_(True), Signature.unsubscribed_at.is_(None))


# --- Producing ------------------------------------------------------------------

def queue_freeze_mail() -> bool:
    """Queue every freeze email that is due now; True if any was."""
    now = clock()
    margin = dt.timedelta(days=1, hours=1)
    campaigns = db.session.execute(
        select(Campaign).where(Campaign.kind == Kind.FREEZE,
                               Campaign.status.in_([CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value]),
                               Campaign.window_start.is_not(None), Campaign.window_end.is_not(None),
                               Campaign.window_start <= now + margin,
                               Campaign.window_end >= now - dt.timedelta(days=CHECK_IN_DAYS))
    ).scalars().all()
    produced = False
    for campaign in campaigns:
        for step in _STEPS:
            if step.kind == CHECK_IN and not campaign.check_in_email:
                continue
            if step.kind != CHECK_IN and campaign.status != CampaignStatus.LIVE:
                continue
            for zone, window in _due_zones(campaign, step, now):
                produced = _queue(campaign, step, zone, window, now) or produced
    db.session.rollback()
    return produced


def _due_zones(campaign: Campaign, step: _Step, now: dt.datetime):
    """(zone, window) for which ``step`` is due now: zone None for a window
    that is the same instant everywhere."""
    if not campaign.local_hours:
        candidates = [(None, signer_window(campaign, None))]
    else:
        zones = db.session.execute(
            select(func.coalesce(Signature.time_zone, campaign.time_zone)).distinct()
            .where(*_wanted_by(campaign.id), getattr(Signature, step.stamp).is_(None))).scalars().all()
        candidates = [(zone, signer_window(campaign, zone)) for zone in zones]
    return [(zone, window) for zone, window in candidates
            if step.due(*window) <= now < step.until(*window)]


def _queue(campaign: Campaign, step: _Step, zone: str | None, window, now: dt.datetime) -> bool:
    """Stamp and queue, a batch per transaction, every signer in ``zone``
    due ``step``."""
    stamp = getattr(Signature, step.stamp)
    conditions = [*_wanted_by(campaign.id), stamp.is_(None)]
    if zone is not None:
        conditions.append(func.coalesce(Signature.time_zone, campaign.time_zone) == zone)
    if step.kind == CHECK_IN:  # only those who signed before it ended can have taken part
        conditions.append(Signature.created_at < window[1])
    batch = current_app.config["BROADCAST_BATCH_SIZE"]
    produced = False
    while True:
        chosen = select(Signature.id).where(*conditions).order_by(Signature.id).limit(batch)
        # The stamp is checked again by the UPDATE itself: a worker that
        # waited for another's rows finds them stamped and leaves them.
        ids = db.session.execute(
            update(Signature).where(Signature.id.in_(chosen.scalar_subquery()), stamp.is_(None))
            .values({step.stamp: now}).returning(Signature.id)
            .execution_options(synchronize_session=False)).scalars().all()
        if ids:
            db.session.execute(outbox.queue_from(step.kind, Signature.email, at=utcnow(), signature_id=Signature.id,
                                                 where=Signature.id.in_(ids), order_by=Signature.id))
            produced = True
        db.session.commit()
        if len(ids) < batch:
            return produced


outbox.register_producer(queue_freeze_mail)


# --- Delivering -----------------------------------------------------------------

@dataclass
class _Batch:
    signatures: dict[int, Signature]
    merges: dict[tuple, MailMerge] = field(default_factory=dict)
    # The unsubscribe and check-in links, by language.
    links: dict[str, tuple] = field(default_factory=dict)

    def links_in(self, language: str) -> tuple:
        found = self.links.get(language)
        if found is None:
            found = self.links[language] = (tokens.links_for(tokens.UNSUBSCRIBE, language=language),
                                            tokens.links_for(tokens.CHECK_IN, language=language))
        return found


def _load(rows: list[outbox.Delivery]) -> _Batch:
    ids = {row.signature_id for row in rows if row.signature_id}
    found = db.session.execute(select(Signature).where(Signature.id.in_(ids))).scalars().all() if ids else []
    return _Batch({s.id: s for s in found})


def _still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    return signature_still_wanted(batch.signatures.get(row.signature_id), SignatureStatus.CONFIRMED,
                                  lambda signature: _why_not_sent(signature, row.kind))


def _why_not_sent(signature: Signature, kind: str) -> str | None:
    """Why this confirmed signer should not get the email ``kind`` now
    (reminders turned off, too late for it, a question already answered
    or switched off), or None."""
    if not signature.reminder_opt_in:
        return "reminders turned off"
    if signature.unsubscribed_at is not None:
        return "unsubscribed"
    campaign, step = signature.campaign, _BY_KIND[kind]
    window = signer_window(campaign, signature.time_zone)
    if window is None or clock() >= step.until(*window):
        return "too late"
    if kind == CHECK_IN and (signature.took_part is not None or not campaign.check_in_email):
        return "already answered" if signature.took_part is not None else "question switched off"
    return None


def _merge(batch: _Batch, kind: str, signature: Signature, language: str) -> MailMerge:
    """The email for every signer of a campaign in one zone and language."""
    campaign = signature.campaign
    zone = signature.time_zone or campaign.time_zone
    key = (kind, campaign.id, zone if campaign.local_hours else None, language)
    merge = batch.merges.get(key)
    if merge is None:
        start, end = signer_window(campaign, zone)
        words = campaign_text(campaign, language)
        with force_locale(language):  # the day and time as the language writes them
            subject, text, html = render_email(_BY_KIND[kind].template, {
                "kind": kind, "campaign": words, "statement": words.statement,
                "start": formats.moment(start, ZoneInfo(zone)), "end": formats.moment(end, ZoneInfo(zone)),
                "time_zone": zone.replace("_", " "), "local_hours": campaign.local_hours,
                "given_name": slot("givenname"), "unsubscribe_url": slot("unsubscribe"),
                "check_in_url": slot("checkin"),
                "campaign_url": absolute_url("public.campaign_page", language=language,
                                             unprefixed=campaign.default_language, slug=campaign.slug),
            })
        merge = batch.merges[key] = MailMerge(
            subject, text, html, ("givenname", "unsubscribe", "checkin"),
            headers={"List-Unsubscribe": f"<{slot('unsubscribe')}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return merge


def _render(batch: _Batch, row: outbox.Delivery) -> OutgoingEmail:
    signature = batch.signatures[row.signature_id]
    # The language it was signed in, if its campaign still speaks it.
    language = language_of(signature.campaign, signature.language)
    unsubscribe_link, check_in_link = batch.links_in(language)
    return _merge(batch, row.kind, signature, language).message(row.recipient, {
        "givenname": signature.given_name, "unsubscribe": unsubscribe_link(signature.id),
        "checkin": check_in_link(signature.id) if row.kind == CHECK_IN else ""})


for _kind in (DAY_BEFORE, START, CHECK_IN):
    outbox.register_kind(outbox.MessageKind(_kind, load=_load, still_wanted=_still_wanted, render=_render))
