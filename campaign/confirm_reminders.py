"""One reminder to confirm, for a signature still pending a while after
signing (CONFIRM_REMINDER_HOURS), with its confirm link; and the figures
the dashboard shows of it: the confirmation rate, how many were reminded
and how many of those confirmed afterwards.

The producer (run by the outbox worker each turn, as the freeze emails'
is) stamps ``confirm_reminded_at`` with a guarded UPDATE, only where it is
still empty, and queues the reminders of the rows it stamped in the same
transaction, a batch per transaction: however many workers on however many
hosts run it at once, a signature is reminded once, and never again (a
stamp is never undone). The same UPDATE spends one email of the
signature's own allowance (SIGNATURE_EMAIL_CAP) and makes the email the
latest that carried the link, so the link it carries is good for another
CONFIRM_LINK_DAYS; a reminder is never sent for a link that already
expired, nor to a mailbox that stopped all email, nor for a campaign that
is not live. The reminder is a capped kind (``signature_mail``): at send
time the mailbox rules spend the mailbox's allowance of emails it did not
ask for, or keep it back, and it is skipped if the signature or its
campaign moved on meanwhile.

A reminder is due once both the signing and the latest email that carried
the link (a "send it again" press) are CONFIRM_REMINDER_HOURS old, and is
worth sending only until the signing is twice that old: a worker that was
down for days does not remind weeks-old signatures, and a link asked for
again more than a day after signing needs no reminder."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, exists, func, or_, select, update

from . import outbox
from .extensions import db
from .models import Campaign, CampaignStatus, Signature, SignatureStatus, Suppression, utcnow
from .signature_mail import CONFIRM_REMINDER

# The pending signatures of a day are read to find who is due: each
# process looks at most this often, not at every turn of the worker (a
# reminder a minute late is as good).
SCAN_EVERY_SECONDS = 60

_scanned_at: dict[str, float] = {}


def clock() -> dt.datetime:
    """Now, naive UTC: when each reminder is due (tests set it)."""
    return utcnow()


# --- Producing ------------------------------------------------------------------

def _time_to_scan() -> bool:
    key = db.engine.url.render_as_string()
    now = time.monotonic()
    if SCAN_EVERY_SECONDS and now - _scanned_at.get(key, -float(SCAN_EVERY_SECONDS)) < SCAN_EVERY_SECONDS:
        return False
    _scanned_at[key] = now
    return True


def queue_confirm_reminders() -> bool:
    """Stamp and queue every reminder that is due now; True if any was."""
    config = current_app.config
    hours = config["CONFIRM_REMINDER_HOURS"]
    if not hours or not _time_to_scan():
        return False
    now = clock()
    due_before = now - dt.timedelta(hours=hours)
    campaign_ids = db.session.execute(
        select(Campaign.id).where(Campaign.status == CampaignStatus.LIVE.value,
                                  # A freeze that is over has nothing left to sign up for.
                                  or_(Campaign.window_end.is_(None), Campaign.window_end > now))
        .order_by(Campaign.id)).scalars().all()
    link_sent_at = func.coalesce(Signature.last_emailed_at, Signature.created_at)
    due = (Signature.status == SignatureStatus.PENDING.value,
           Signature.confirm_reminded_at.is_(None),
           Signature.created_at <= due_before,
           Signature.created_at > due_before - dt.timedelta(hours=hours),
           link_sent_at <= due_before,
           link_sent_at >= now - dt.timedelta(days=config["CONFIRM_LINK_DAYS"]),
           Signature.emails_sent < config["SIGNATURE_EMAIL_CAP"],
           ~exists(select(Suppression.email_normalised)
                   .where(Suppression.email_normalised == Signature.email_normalised)))
    produced = False
    for campaign_id in campaign_ids:
        produced = _queue(campaign_id, due, now) or produced
    db.session.rollback()
    return produced


def _queue(campaign_id: int, due, now: dt.datetime) -> bool:
    """Stamp and queue, a batch per transaction, the campaign's signatures
    that are ``due``: read in the order of the index that finds them, so
    racing workers meet the same rows in the same order and wait for each
    other rather than deadlock."""
    batch = current_app.config["BROADCAST_BATCH_SIZE"]
    produced = False
    while True:
        chosen = (select(Signature.id).where(Signature.campaign_id == campaign_id, *due)
                  .order_by(Signature.created_at, Signature.id).limit(batch))
        # Every condition is checked again by the UPDATE itself: a worker
        # that waited for another's rows finds them stamped (or just sent the
        # link again) and leaves them.
        ids = db.session.execute(
            update(Signature).where(Signature.id.in_(chosen.scalar_subquery()), *due)
            .values(confirm_reminded_at=now, emails_sent=Signature.emails_sent + 1, last_emailed_at=now)
            .returning(Signature.id)
            .execution_options(synchronize_session=False)).scalars().all()
        if ids:
            db.session.execute(outbox.queue_from(CONFIRM_REMINDER, Signature.email, at=utcnow(),
                                                 signature_id=Signature.id, where=Signature.id.in_(ids),
                                                 order_by=Signature.id))
            produced = True
        db.session.commit()
        if len(ids) < batch:
            return produced


outbox.register_producer(queue_confirm_reminders)


# --- The dashboard's figures --------------------------------------------------------

@dataclass(frozen=True)
class ConfirmationFigures:
    """How a campaign's signers confirm, for its dashboard."""
    confirmed: int
    pending: int
    reminded: int                   # signatures sent a reminder (whatever became of them)
    confirmed_after_reminder: int   # ...that were confirmed after it

    @staticmethod
    def _share(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def rate(self) -> int | None:
        """Confirmed of confirmed and pending, in whole percent."""
        return self._share(self.confirmed, self.confirmed + self.pending)

    @property
    def reminder_rate(self) -> int | None:
        return self._share(self.confirmed_after_reminder, self.reminded)


def confirmation_figures(campaign_id: int, confirmed: int, pending: int) -> ConfirmationFigures:
    """``confirmed`` and ``pending`` come from the stored counts; the
    reminded ones are read through the partial index of reminded
    signatures, so a campaign of a million is not scanned per view."""
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((Signature.confirmed_at > Signature.confirm_reminded_at, 1),
                                                         else_=0)), 0))
        .where(Signature.campaign_id == campaign_id, Signature.confirm_reminded_at.is_not(None))).one()
    return ConfirmationFigures(confirmed, pending, int(row[0]), int(row[1]))
