"""The stored counts: signatures by status and consent (the public count is
the confirmed ones), and confirmed signatures by day and country (exports
and charts). Every change to a signature's status moves its count in the
same transaction, through this module; ``recount`` rebuilds them from the
signatures if they ever drift. Also the goal shown beside the count.

Counts are sharded: each change adds to one of COUNTER_SHARDS rows per key,
chosen at random, so that many confirmations at once do not queue on one row
lock (the UK petitions site fell over on exactly that); readers sum a
handful of rows."""
from __future__ import annotations

import datetime as dt
import random

from flask import current_app
from sqlalchemy import case, delete, false, func, literal, select, text, true

from . import countries
from .extensions import db, dialect_insert, on_postgresql
from .models import Campaign, DailyCountryCount, Signature, SignatureStatus, SignatureTally
from .statements import cached

_TALLY_KEYS = ["campaign_id", "status", "email_opt_in", "shard"]
_DAILY_KEYS = ["campaign_id", "day", "country", "shard"]


def random_shard() -> int:
    return random.randrange(current_app.config["COUNTER_SHARDS"])


def _adding(model, keys: list[str], statement):
    """An INSERT into a count table that adds its ``signatures`` to the row
    already there, if there is one."""
    return statement.on_conflict_do_update(
        index_elements=keys, set_={"signatures": model.__table__.c.signatures + statement.excluded.signatures})


def _add_rows(model, keys: list[str], values: list) -> object:
    """INSERT ... SELECT of one row of ``values`` (columns or bound values)
    into a count table, adding to the row already there. The WHERE keeps
    SQLite's parser from reading ON CONFLICT as a join's ON."""
    return _adding(model, keys, dialect_insert(model.__table__).from_select(
        [*keys, "signatures"], select(*values).where(true())))


def tally_added(campaign_id, status, opt_in, shard, n):
    """The statement that adds ``n`` to a tally row; each argument may be a
    column of a chain's first row or a bound parameter (see statements).
    Only confirmed rows are split by consent to updates (the person who
    confirms decides it): pass ``false()`` for any other status."""
    return _add_rows(SignatureTally, _TALLY_KEYS, [campaign_id, status, opt_in, shard, n])


def daily_added(campaign_id, day, country, shard, n):
    """The statement that adds ``n`` to a day-and-country row."""
    return _add_rows(DailyCountryCount, _DAILY_KEYS, [campaign_id, day, country, shard, n])


def _upsert_add(model, keys: list[str], rows: list[dict]) -> None:
    """INSERT each row, or add its ``signatures`` to the row already there.
    One cached statement, executed for every row in order."""
    statement = cached(f"upsert:{model.__tablename__}", lambda: _adding(model, keys, dialect_insert(model.__table__)))
    db.session.connection().execute(statement, rows if len(rows) > 1 else rows[0])


def count_transition(
    campaign_id: int,
    opt_in: bool,
    old: SignatureStatus | None,
    new: SignatureStatus,
    n: int = 1,
    day: dt.date | None = None,
    country: str | None = None,
) -> None:
    """Move ``n`` signatures from status ``old`` (None: new signatures) to
    ``new`` in the stored counts, in the caller's transaction. ``day`` and
    ``country`` say where confirmed ones are (or were) counted."""
    tallies, daily = [], []
    for status, delta in ((old, -n), (new, n)):
        if status is None:
            continue
        tallies.append({"campaign_id": campaign_id, "status": status,
                        "email_opt_in": bool(opt_in) and status == SignatureStatus.CONFIRMED,
                        "shard": random_shard(), "signatures": delta})
        if status == SignatureStatus.CONFIRMED:
            daily.append({"campaign_id": campaign_id, "day": day, "country": country,
                          "shard": random_shard(), "signatures": delta})
    _upsert_add(SignatureTally, _TALLY_KEYS, tallies)
    if daily:
        _upsert_add(DailyCountryCount, _DAILY_KEYS, daily)


# --- Reading ----------------------------------------------------------------

def confirmed_count(campaign_id):
    """The confirmed count of a campaign as a scalar subquery (``campaign_id``
    may be a column)."""
    return (
        select(func.coalesce(func.sum(SignatureTally.signatures), 0))
        .where(SignatureTally.campaign_id == campaign_id, SignatureTally.status == SignatureStatus.CONFIRMED.value)
        .scalar_subquery()
    )


def signature_count(campaign_id: int) -> int:
    """The stored confirmed count of one campaign."""
    return signature_counts([campaign_id])[campaign_id]


def signature_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Stored confirmed counts of several campaigns at once."""
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        select(SignatureTally.campaign_id, func.sum(SignatureTally.signatures))
        .where(SignatureTally.campaign_id.in_(campaign_ids),
               SignatureTally.status == SignatureStatus.CONFIRMED)
        .group_by(SignatureTally.campaign_id)
    ).all()
    counts = dict.fromkeys(campaign_ids, 0)
    counts.update({campaign_id: int(total) for campaign_id, total in rows})
    return counts


def status_counts(campaign_id: int) -> dict[tuple[str, bool], int]:
    """Stored counts by (status, opted in to updates)."""
    rows = db.session.execute(
        select(SignatureTally.status, SignatureTally.email_opt_in, func.sum(SignatureTally.signatures))
        .where(SignatureTally.campaign_id == campaign_id)
        .group_by(SignatureTally.status, SignatureTally.email_opt_in)
    ).all()
    return {(status, bool(opt_in)): int(n) for status, opt_in, n in rows}


def counts_by_day(campaign_id: int) -> list[dict]:
    rows = db.session.execute(
        select(DailyCountryCount.day, func.sum(DailyCountryCount.signatures))
        .where(DailyCountryCount.campaign_id == campaign_id)
        .group_by(DailyCountryCount.day)
        .order_by(DailyCountryCount.day)
    ).all()
    return [{"date": day.isoformat(), "signatures": int(n)} for day, n in rows if n]


def counts_by_country(campaign_id: int) -> list[dict]:
    total = func.sum(DailyCountryCount.signatures)
    rows = db.session.execute(
        select(DailyCountryCount.country, total)
        .where(DailyCountryCount.campaign_id == campaign_id)
        .group_by(DailyCountryCount.country)
        .order_by(total.desc(), DailyCountryCount.country)
    ).all()
    return [
        {"country": code, "country_name": countries.name(code), "signatures": int(n)}
        for code, n in rows if n
    ]


def recount(campaign: Campaign) -> tuple[int, int]:
    """Rebuild a campaign's stored counts from its signature rows.
    Returns (count before, count after)."""
    before = signature_count(campaign.id)
    if on_postgresql():
        # Hold off writers (they take ROW EXCLUSIVE on these tables) while
        # the counts are rebuilt; readers are not blocked.
        db.session.execute(text("LOCK TABLE signature_tally, daily_country_count IN EXCLUSIVE MODE"))
    for model in (SignatureTally, DailyCountryCount):
        db.session.execute(delete(model).where(model.campaign_id == campaign.id))
    mine = Signature.campaign_id == campaign.id
    opt_in = case((Signature.status == SignatureStatus.CONFIRMED.value, Signature.email_opt_in), else_=false())
    db.session.execute(dialect_insert(SignatureTally.__table__).from_select(
        [*_TALLY_KEYS, "signatures"],
        select(Signature.campaign_id, Signature.status, opt_in, literal(0), func.count())
        .where(mine).group_by(Signature.campaign_id, Signature.status, opt_in)))
    day = func.date(Signature.confirmed_at)
    for confirmed_day, country, n in db.session.execute(
        select(day, Signature.country, func.count())
        .where(mine, Signature.status == SignatureStatus.CONFIRMED)
        .group_by(day, Signature.country)
    ).all():
        if isinstance(confirmed_day, str):  # SQLite's date() returns text
            confirmed_day = dt.date.fromisoformat(confirmed_day)
        db.session.add(DailyCountryCount(
            campaign_id=campaign.id, day=confirmed_day, country=country, shard=0, signatures=n
        ))
    db.session.commit()
    return before, signature_count(campaign.id)


# --- The goal ---------------------------------------------------------------

def round_up_1_2_5(value: int) -> int:
    """The smallest 1, 2 or 5 x 10^n at or above ``value`` (at least 1)."""
    step = 1
    while True:
        for mantissa in (1, 2, 5):
            if mantissa * step >= value:
                return mantissa * step
        step *= 10


def displayed_goal(count: int, goal: int, fixed: bool) -> int:
    """The goal to show: once reached, it steps up to the next 1, 2 or 5 x 10^n
    above the count, unless the organiser fixed it."""
    if fixed or count < goal:
        return goal
    return round_up_1_2_5(count + 1)


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
