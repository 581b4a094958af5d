"""Rules every email obeys, kept by the canonical mailbox
(``identity.normalise_email``), whatever campaign or address variant a
message came from: a mailbox that asked to stop all email gets none, and a
mailbox gets only so many emails it did not yet prove it wanted
(confirmation links, "you already signed" notes) per hour and per day. A
mailbox whose owner erased their data ("Manage my data") counts as one
that stopped all email, for good, whoever signs with it later. The
delivery engine applies them at send time (``outbox``), so they hold for
every path that queues such a message, and they are rules of the email
system, not HTTP rate limits: switching those off leaves these on."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import bindparam, delete, select, update

from .extensions import db, dialect_insert
from .identity import mailbox_hash, normalise_email
from .models import ErasedMailbox, MailboxAllowance, Suppression
from .statements import cached


def mailbox_of(address: str) -> str:
    return normalise_email(address)


def suppressed(mailboxes: Iterable[str]) -> set[str]:
    """Those of ``mailboxes`` that asked for no more email from this site,
    or whose owner erased their data (kept only as a hash)."""
    wanted = set(mailboxes)
    if not wanted:
        return set()
    stopped = set(db.session.execute(
        select(Suppression.email_normalised).where(Suppression.email_normalised.in_(wanted))).scalars())
    hashes = {mailbox_hash(mailbox): mailbox for mailbox in wanted}
    erased = db.session.execute(
        select(ErasedMailbox.mailbox_hash).where(ErasedMailbox.mailbox_hash.in_(hashes))).scalars()
    return stopped | {hashes[found] for found in erased}


def spend_allowances(wanted: list[str], now: dt.datetime) -> list[bool]:
    """For a batch of unconfirmed emails to the mailboxes ``wanted`` (in the
    order they would be sent), which may go: each mailbox's allowance is
    spent on its first emails in that order while its hour and day windows
    have room (a window past its length starts again from now). In the
    caller's transaction, in three statements whatever the batch's size: the
    mailboxes' rows are made sure of, then read and locked in one order (so
    racing workers wait for each other, never deadlock, and never both take
    the last email of a window), then written back."""
    if not wanted:
        return []
    config = current_app.config
    per_hour, per_day = config["MAILBOX_UNCONFIRMED_PER_HOUR"], config["MAILBOX_UNCONFIRMED_PER_DAY"]
    asked = Counter(wanted)
    names = sorted(asked)
    session = db.session.connection()
    session.execute(cached("mailbox allowance: ensure", lambda: dialect_insert(MailboxAllowance.__table__)
                           .on_conflict_do_nothing(index_elements=["mailbox"])),
                    [{"mailbox": name, "hour_from": now, "hour_sent": 0, "day_from": now, "day_sent": 0}
                     for name in names])
    table = MailboxAllowance.__table__
    held = session.execute(select(table).where(table.c.mailbox.in_(names)).order_by(table.c.mailbox)
                           .with_for_update()).all()
    granted, changes = {}, []
    for row in held:
        hour_from, hour_sent = (now, 0) if row.hour_from <= now - dt.timedelta(hours=1) else (row.hour_from,
                                                                                               row.hour_sent)
        day_from, day_sent = (now, 0) if row.day_from <= now - dt.timedelta(days=1) else (row.day_from, row.day_sent)
        n = max(0, min(asked[row.mailbox], per_hour - hour_sent, per_day - day_sent))
        granted[row.mailbox] = n
        if n:
            changes.append({"key": row.mailbox, "new_hour_from": hour_from, "new_hour_sent": hour_sent + n,
                            "new_day_from": day_from, "new_day_sent": day_sent + n})
    if changes:
        session.execute(cached("mailbox allowance: spend", lambda: update(table)
                               .where(table.c.mailbox == bindparam("key"))
                               .values({name: bindparam(f"new_{name}")
                                        for name in ("hour_from", "hour_sent", "day_from", "day_sent")})),
                        changes)
    allowed = []
    for name in wanted:
        allowed.append(granted.get(name, 0) > 0)
        granted[name] = granted.get(name, 0) - 1
    return allowed


def forget_spent_windows(now: dt.datetime) -> int:
    """Drop the allowances whose day window has passed (they would start
    afresh anyway), in the caller's transaction; returns how many."""
    return db.session.execute(delete(MailboxAllowance).where(
        MailboxAllowance.day_from <= now - dt.timedelta(days=1))).rowcount
