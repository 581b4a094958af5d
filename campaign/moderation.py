"""Fraud and mistakes: search a campaign's signatures, invalidate a
selection in bulk (recorded, undoable), and spot bursts from one source."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from . import webhooks
from .counts import count_transition
from .extensions import db
from .identity import hash_ip, normalise_email
from .models import LIVE_STATUSES, Campaign, Invalidation, Organiser, Signature, SignatureStatus, utcnow


@dataclass(frozen=True)
class Criteria:
    """What an organiser searched for. Empty fields do not filter."""

    email_domain: str = ""
    name: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    ip: str = ""        # a client address, hashed before it is compared
    ip_hash: str = ""   # or the hash itself, from the groups table
    email: str = ""     # one address (normalised before it is compared)

    @property
    def is_empty(self) -> bool:
        """Nothing to filter by: blank text counts as nothing."""
        return not any(v.strip() if isinstance(v, str) else v for v in asdict(self).values())

    def as_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in asdict(self).items() if v}


def _conditions(campaign: Campaign, criteria: Criteria) -> list:
    conditions = [Signature.campaign_id == campaign.id]
    if criteria.email_domain:
        conditions.append(Signature.email_domain == criteria.email_domain.strip().lower().lstrip("@"))
    if criteria.name.strip():
        # The text itself, never a pattern: % and _ match only themselves.
        term = criteria.name.strip().lower()
        conditions.append(or_(func.lower(Signature.given_name).contains(term, autoescape=True),
                              func.lower(Signature.family_name).contains(term, autoescape=True)))
    if criteria.since:
        conditions.append(Signature.created_at >= criteria.since)
    if criteria.until:
        conditions.append(Signature.created_at < criteria.until)
    if criteria.ip:
        conditions.append(Signature.ip_hash == hash_ip(criteria.ip.strip()))
    if criteria.ip_hash:
        conditions.append(Signature.ip_hash == criteria.ip_hash.strip())
    if criteria.email:
        conditions.append(Signature.email_normalised == normalise_email(criteria.email))
    return conditions


def search(campaign: Campaign, criteria: Criteria, limit: int = 100) -> list[Signature]:
    return list(db.session.execute(
        select(Signature).where(*_conditions(campaign, criteria))
        .order_by(Signature.created_at.desc()).limit(limit)
    ).scalars())


def count_matching(campaign: Campaign, criteria: Criteria) -> dict[str, int]:
    """How many signatures match, by status: the preview before invalidating."""
    rows = db.session.execute(
        select(Signature.status, func.count()).where(*_conditions(campaign, criteria))
        .group_by(Signature.status)
    ).all()
    counts = dict.fromkeys((s.value for s in SignatureStatus), 0)
    counts.update(dict(rows))
    return counts


def invalidate(campaign: Campaign, criteria: Criteria, organiser: Organiser | None,
               reason: str = "") -> Invalidation:
    """Withdraw every valid signature matching ``criteria`` and take the
    confirmed ones off the counts, in one transaction."""
    if criteria.is_empty:
        raise ValueError("refusing to invalidate a whole campaign without criteria")
    batch = Invalidation(campaign_id=campaign.id, organiser_id=organiser.id if organiser else None,
                         reason=reason[:500], criteria=criteria.as_json())
    db.session.add(batch)
    db.session.flush()
    # Confirmed ones first, returning what they were counted under, so the
    # counts come off exactly; a signature confirmed meanwhile is either
    # caught here or left valid, never invalidated uncounted.
    confirmed = db.session.execute(
        update(Signature)
        .where(*_conditions(campaign, criteria), Signature.status == SignatureStatus.CONFIRMED)
        .values(status=SignatureStatus.INVALIDATED, invalidation_id=batch.id)
        .returning(Signature.confirmed_at, Signature.country, Signature.email_opt_in)
        .execution_options(synchronize_session=False)
    ).all()
    pending = db.session.execute(
        update(Signature)
        .where(*_conditions(campaign, criteria), Signature.status == SignatureStatus.PENDING)
        .values(status=SignatureStatus.INVALIDATED, invalidation_id=batch.id)
        .returning(Signature.confirmed_at, Signature.country, Signature.email_opt_in)
        .execution_options(synchronize_session=False)
    ).all()
    _count_moves(campaign.id, confirmed, SignatureStatus.CONFIRMED, SignatureStatus.INVALIDATED)
    _count_moves(campaign.id, pending, SignatureStatus.PENDING, SignatureStatus.INVALIDATED)
    if confirmed or pending:
        webhooks.queue_signature_events(webhooks.SIGNATURE_INVALIDATED, campaign.id,
                                        select(Signature.id).where(Signature.invalidation_id == batch.id))
    batch.signatures = len(confirmed) + len(pending)
    db.session.commit()
    return batch


def undo_invalidation(batch: Invalidation) -> int:
    """Restore the signatures of a batch to what they were; returns how many."""
    if batch.undone_at is not None:
        return 0
    # A signature whose address has signed again since (see signing) stays
    # invalidated: the new one counts instead.
    again = aliased(Signature)
    signed_again = exists().where(again.campaign_id == Signature.campaign_id,
                                  again.email_normalised == Signature.email_normalised,
                                  again.status.in_(LIVE_STATUSES), again.id != Signature.id)
    ours = and_(Signature.invalidation_id == batch.id, Signature.status == SignatureStatus.INVALIDATED,
                ~signed_again)
    # Those confirmed again are confirmed signatures once more: queued
    # first, while the batch still names them (in this transaction).
    webhooks.queue_signature_events(webhooks.SIGNATURE_CONFIRMED, batch.campaign_id,
                                    select(Signature.id).where(ours, Signature.confirmed_at.is_not(None)))
    confirmed = db.session.execute(
        update(Signature).where(ours, Signature.confirmed_at.is_not(None))
        .values(status=SignatureStatus.CONFIRMED, invalidation_id=None)
        .returning(Signature.confirmed_at, Signature.country, Signature.email_opt_in)
        .execution_options(synchronize_session=False)
    ).all()
    pending = db.session.execute(
        update(Signature).where(ours)
        .values(status=SignatureStatus.PENDING, invalidation_id=None)
        .returning(Signature.confirmed_at, Signature.country, Signature.email_opt_in)
        .execution_options(synchronize_session=False)
    ).all()
    _count_moves(batch.campaign_id, confirmed, SignatureStatus.INVALIDATED, SignatureStatus.CONFIRMED)
    _count_moves(batch.campaign_id, pending, SignatureStatus.INVALIDATED, SignatureStatus.PENDING)
    batch.undone_at = utcnow()
    db.session.commit()
    return len(confirmed) + len(pending)


def _count_moves(campaign_id: int, rows, old: SignatureStatus, new: SignatureStatus) -> None:
    """Move rows of (confirmed_at, country, opt_in) between statuses in the
    stored counts, grouped so a large batch is a few statements."""
    groups = Counter(
        (confirmed_at.date() if confirmed_at else None, country, bool(opt_in))
        for confirmed_at, country, opt_in in rows
    )
    for (day, country, opt_in), n in groups.items():
        count_transition(campaign_id, opt_in, old, new, n, day=day, country=country)


def invalidations(campaign: Campaign) -> list[Invalidation]:
    return list(db.session.execute(
        select(Invalidation).where(Invalidation.campaign_id == campaign.id)
        .order_by(Invalidation.created_at.desc(), Invalidation.id.desc())
    ).scalars())


def busiest_sources(campaign: Campaign, hours: int = 1, limit: int = 10) -> dict[str, list[tuple[str, int]]]:
    """The IP hashes and email domains that signed most in the last ``hours``."""
    since = utcnow() - dt.timedelta(hours=hours)
    recent = and_(Signature.campaign_id == campaign.id, Signature.created_at >= since)
    result = {}
    for key, column in (("ip", Signature.ip_hash), ("domain", Signature.email_domain)):
        n = func.count().label("n")
        rows = db.session.execute(
            select(column, n).where(recent, column.is_not(None))
            .group_by(column).having(func.count() > 1).order_by(n.desc()).limit(limit)
        ).all()
        result[key] = [(value, count) for value, count in rows]
    return result
