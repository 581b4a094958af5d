"""A freeze's "Did you take part?": a signer answers from the link in the
email sent after their window ("I took part" / "I couldn't this time"), and
may change their mind. Only these answers say how many took part: a
signature says someone meant to, not that they did.

Answers are counted in ``check_in_tally`` (sharded like the signature
tallies), moved in the same transaction as the answer, so that the page in
the "ended" state and the dashboard read a handful of rows, never the
signatures. Each answer is a guarded UPDATE: from no answer, or from the
other answer, so a double click or two racing clicks count once."""
from __future__ import annotations

import datetime as dt
import enum
import random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, literal, select, update

from . import locales, translations
from .extensions import db, dialect_insert
from .models import Campaign, CheckInTally, Kind, Signature, SignatureStatus, utcnow
from .windows import signer_window


class CheckInRefusal(enum.StrEnum):
    """Why a signature cannot answer (now)."""
    NOT_CONFIRMED = "not confirmed"   # never confirmed, or withdrawn
    TOO_EARLY = "too early"           # their window has not ended yet
    SIGNED_AFTER = "signed after"     # signed once their window had ended


@dataclass(frozen=True)
class CheckIn:
    """A signature's answer as the check-in page shows it."""
    slug: str
    title: str
    next_action: str
    took_part: bool | None
    refusal: CheckInRefusal | None
    window_end: dt.datetime | None  # the signer's own, naive UTC
    answered_now: bool = False


def _signature(signature_id: int) -> Signature | None:
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.campaign.kind != Kind.FREEZE:
        return None
    return signature


def _refusal(signature: Signature, window: tuple[dt.datetime, dt.datetime] | None,
             now: dt.datetime) -> CheckInRefusal | None:
    if signature.status != SignatureStatus.CONFIRMED:
        return CheckInRefusal.NOT_CONFIRMED
    if window is None or now < window[1]:
        return CheckInRefusal.TOO_EARLY
    if signature.created_at >= window[1]:
        return CheckInRefusal.SIGNED_AFTER
    return None


def _page(signature: Signature, now: dt.datetime, answered_now: bool = False) -> CheckIn:
    campaign = signature.campaign
    window = signer_window(campaign, signature.time_zone)
    # In the language of the page (the emailed link carries the signer's).
    text = translations.campaign_text(campaign, translations.language_of(campaign, locales.page_language()))
    return CheckIn(campaign.slug, text.title, text.next_action, signature.took_part,
                   _refusal(signature, window, now), window[1] if window else None, answered_now)


def check_in_page(signature_id: int) -> CheckIn | None:
    """What the check-in page shows; None if no freeze signature has this id.
    Reading it records nothing (mail scanners open links)."""
    signature = _signature(signature_id)
    return None if signature is None else _page(signature, utcnow())


def answer(signature_id: int, took_part: bool) -> CheckIn | None:
    """Record a signer's answer and move the counts, in one transaction.
    The same answer again changes nothing; the other answer replaces it."""
    signature = _signature(signature_id)
    if signature is None:
        return None
    now = utcnow()
    page = _page(signature, now)
    if page.refusal is not None:
        db.session.rollback()
        return page
    table = Signature.__table__
    moved = db.session.execute(
        update(table).where(table.c.id == signature_id, table.c.took_part.is_(None))
        .values(took_part=took_part, checked_in_at=now)).rowcount
    changes = [(took_part, 1)] if moved else []
    if not moved:
        moved = db.session.execute(
            update(table).where(table.c.id == signature_id, table.c.took_part.is_(not took_part))
            .values(took_part=took_part, checked_in_at=now)).rowcount
        changes = [(not took_part, -1), (took_part, 1)] if moved else []
    for answer_given, n in changes:
        _add(signature.campaign_id, answer_given, n)
    db.session.commit()
    db.session.refresh(signature)
    return _page(signature, now, answered_now=bool(changes))


def _add(campaign_id: int, took_part: bool, n: int) -> None:
    statement = dialect_insert(CheckInTally.__table__).values(
        campaign_id=campaign_id, took_part=took_part,
        shard=random.randrange(current_app.config["COUNTER_SHARDS"]), answers=n)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["campaign_id", "took_part", "shard"],
        set_={"answers": CheckInTally.__table__.c.answers + statement.excluded.answers}))


# --- Reading ------------------------------------------------------------------

def took_part_count(campaign_id):
    """How many answered "I took part", as a scalar subquery (``campaign_id``
    may be a column): the page reads it with the count."""
    return (select(func.coalesce(func.sum(CheckInTally.answers), 0))
            .where(CheckInTally.campaign_id == campaign_id, CheckInTally.took_part.is_(True))
            .scalar_subquery())


@dataclass(frozen=True)
class TakePart:
    """The answers of a freeze, for its dashboard."""
    took_part: int
    could_not: int

    @property
    def answered(self) -> int:
        return self.took_part + self.could_not

    @property
    def rate(self) -> int | None:
        """The share of answers that said "I took part", in whole percent."""
        return round(100 * self.took_part / self.answered) if self.answered else None


def take_part(campaign_id: int) -> TakePart:
    rows = dict(db.session.execute(
        select(CheckInTally.took_part, func.sum(CheckInTally.answers))
        .where(CheckInTally.campaign_id == campaign_id).group_by(CheckInTally.took_part)).all())
    return TakePart(int(rows.get(True) or 0), int(rows.get(False) or 0))


def recount(campaign: Campaign) -> TakePart:
    """Rebuild a campaign's answer counts from its signatures."""
    db.session.execute(delete(CheckInTally).where(CheckInTally.campaign_id == campaign.id))
    db.session.execute(dialect_insert(CheckInTally.__table__).from_select(
        ["campaign_id", "took_part", "shard", "answers"],
        select(Signature.campaign_id, Signature.took_part, literal(0), func.count())
        .where(Signature.campaign_id == campaign.id, Signature.took_part.is_not(None))
        .group_by(Signature.campaign_id, Signature.took_part)))
    db.session.commit()
    return take_part(campaign.id)
