"""Rules every email obeys, kept by the canonical mailbox
(``identity.normalise_email``), whatever campaign or address variant a
message came from: a mailbox that asked to stop all email gets none, and a
mailbox gets only so many emails it did not yet prove it wanted
(confirmation links, "you already signed" notes) per hour and per day. The
delivery engine applies them at send time (``outbox``), so they hold for
every path that queues such a message, and they are rules of the email
system, not HTTP rate limits: switching those off leaves these on."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import bindparam, case, delete, select

from .extensions import db, dialect_insert
from .identity import normalise_email
from .models import MailboxAllowance, Suppression
from .statements import cached


def mailbox_of(address: str) -> str:
    return normalise_email(address)


def suppressed(mailboxes: Iterable[str]) -> set[str]:
    """Those of ``mailboxes`` that asked for no more email from this site."""
    wanted = set(mailboxes)
    if not wanted:
        return set()
    return set(db.session.execute(
        select(Suppression.email_normalised).where(Suppression.email_normalised.in_(wanted))).scalars())


def _spend():
    """INSERT ... ON CONFLICT DO UPDATE ... WHERE: counts one more email in
    the mailbox's hour and day windows (a window past its length starts
    again from now) if both are below their caps, and returns a row only
    then. The conflict locks the mailbox's row, so racing workers cannot
    both take the last email of a window."""
    table = MailboxAllowance.__table__
    statement = dialect_insert(table).values(
        mailbox=bindparam("mailbox"), hour_from=bindparam("now"), hour_sent=1, day_from=bindparam("now"), day_sent=1)
    hour_over = table.c.hour_from <= bindparam("hour_ago")
    day_over = table.c.day_from <= bindparam("day_ago")
    return statement.on_conflict_do_update(
        index_elements=["mailbox"],
        set_={
            "hour_from": case((hour_over, bindparam("now")), else_=table.c.hour_from),
            "hour_sent": case((hour_over, 1), else_=table.c.hour_sent + 1),
            "day_from": case((day_over, bindparam("now")), else_=table.c.day_from),
            "day_sent": case((day_over, 1), else_=table.c.day_sent + 1),
        },
        where=((hour_over | (table.c.hour_sent < bindparam("per_hour")))
               & (day_over | (table.c.day_sent < bindparam("per_day")))),
    ).returning(table.c.mailbox)


def spend_allowance(mailbox: str, now: dt.datetime) -> bool:
    """Count one unconfirmed email to ``mailbox``, in the caller's
    transaction; False (and nothing counted) if its hour or day cap is
    reached: the email must not be sent."""
    config = current_app.config
    row = db.session.connection().execute(cached("mailbox allowance", _spend), {
        "mailbox": mailbox, "now": now,
        "hour_ago": now - dt.timedelta(hours=1), "day_ago": now - dt.timedelta(days=1),
        "per_hour": config["MAILBOX_UNCONFIRMED_PER_HOUR"], "per_day": config["MAILBOX_UNCONFIRMED_PER_DAY"],
    }).first()
    return row is not None


def forget_spent_windows(now: dt.datetime) -> int:
    """Drop the allowances whose day window has passed (they would start
    afresh anyway), in the caller's transaction; returns how many."""
    return db.session.execute(delete(MailboxAllowance).where(
        MailboxAllowance.day_from <= now - dt.timedelta(days=1))).rowcount
