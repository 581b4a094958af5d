"""The pledge service: sign, confirm, de-duplicate, count. Owns its commits."""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, case, delete, exists, func, insert, literal, or_, select, text, union_all, update
from sqlalchemy.dialects import postgresql

from . import outbox, questions, tokens
from .extensions import db, dialect_insert, on_postgresql
from .microcache import micro_cache
from .models import (
    Campaign,
    CampaignStatus,
    DailyCountryCount,
    OutboxMessage,
    OutboxStatus,
    Signature,
    SignatureTally,
    SignatureStatus,
    utcnow,
)

# Providers known to ignore dots and +tags in the local part.
_GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def normalise_email(address: str) -> str:
    """The form of an address used to spot a second signature by the same person."""
    local, _, domain = address.strip().rpartition("@")
    local, domain = local.lower(), domain.lower()
    if domain in _GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def hash_ip(address: str | None) -> str | None:
    """A keyed hash of a client address: groups signatures without storing the IP."""
    if not address:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


# --- Tokens -----------------------------------------------------------------

def confirmation_token(signature_id: int) -> str:
    return tokens.token_for(tokens.CONFIRM, signature_id)


def signature_for_token(token: str) -> Signature | None:
    """The signature a confirmation token names, or None if it is forged or gone."""
    return tokens.signature_for(tokens.CONFIRM, token)


def signature_id_for_token(token: str) -> int | None:
    """The signature id a confirmation token names, or None if it is forged."""
    return tokens.signature_id_for(tokens.CONFIRM, token)


# --- Signing ----------------------------------------------------------------

@dataclass(frozen=True)
class Pledge:
    given_name: str
    family_name: str
    email: str
    country: str
    postal_code: str | None
    email_opt_in: bool
    show_name: bool
    # Answers to the campaign's questions: {str(question id): answer}.
    answers: dict[str, str] | None = None


@dataclass(frozen=True)
class SigningTerms:
    """What a sign POST must know of a public campaign."""
    id: int
    slug: str
    status: str
    postcode_required: bool
    questions: tuple[questions.Question, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.LIVE


def signing_terms(slug: str) -> SigningTerms | None:
    """The terms of the public (live or closed) campaign ``slug``, or None.
    Kept for PUBLIC_MICROCACHE_SECONDS in this process, like the page the
    form came from: under a spike, signing reads no campaign row at all.
    A campaign closed within that second may still take a signature."""
    if "\x00" in slug:  # PostgreSQL text cannot hold it: no such campaign
        return None

    def load() -> SigningTerms | None:
        # On a connection of its own, returned at once: the session holds
        # none while the signature is written (see _sign_in_one_statement).
        with db.engine.connect() as connection:
            row = connection.execute(
                select(Campaign.id, Campaign.slug, Campaign.status, Campaign.postcode_required)
                .where(Campaign.slug == slug)
            ).one_or_none()
            if row is None or row.status == CampaignStatus.DRAFT:
                return None
            asked = questions.visible_questions(row.id, connection)
        return SigningTerms(row.id, row.slug, row.status, row.postcode_required, asked)

    return micro_cache.get(f"terms:{slug}", current_app.config["PUBLIC_MICROCACHE_SECONDS"], load)


class SignOutcome(enum.Enum):
    NEW = "new"                  # stored, confirmation queued
    RESENT = "resent"            # still pending: confirmation queued again
    ALREADY_SIGNED = "already"   # confirmed before: a short note queued
    QUIET = "quiet"              # nothing sent (email cap, double click, invalidated)


def sign(campaign: Campaign, pledge: Pledge, ip: str | None = None) -> SignOutcome:
    """Record a pending signature and queue its confirmation email in one
    transaction. A second signing by the same (normalised) address never
    adds a signature; the unique constraint, not a prior read, decides.

    This is the launch-day hot path: SQLAlchemy Core with cached statements,
    no unit of work, no template rendered (the outbox worker renders the
    confirmation email when it sends it), and on PostgreSQL a single
    statement. ``campaign`` needs only an ``id``."""
    normalised = normalise_email(pledge.email)
    now = utcnow()
    values = {
        "campaign_id": campaign.id,
        "given_name": pledge.given_name,
        "family_name": pledge.family_name,
        "email": pledge.email.strip(),
        "email_normalised": normalised,
        "email_domain": normalised.rpartition("@")[2],
        "country": pledge.country,
        "postal_code": pledge.postal_code or None,
        "email_opt_in": bool(pledge.email_opt_in),
        "show_name": bool(pledge.show_name),
        "answers": pledge.answers or None,
        "ip_hash": hash_ip(ip),
        "status": SignatureStatus.PENDING.value,
        "emails_sent": 1,
        "last_emailed_at": now,
        "created_at": now,
    }
    if on_postgresql():
        with _autocommit() as connection:
            signature_id = _sign_in_one_statement(connection, values)
            if signature_id is None:  # this address has signed here before
                return _signed_again(campaign.id, normalised, connection)
    else:
        signature_id = db.session.connection().execute(_cached_statement(
            "insert_signature", lambda: _new_signature(values).returning(Signature.__table__.c.id)), values).scalar()
        if signature_id is not None:
            count_transition(campaign.id, pledge.email_opt_in, None, SignatureStatus.PENDING)
            outbox.enqueue_signature_email(outbox.CONFIRMATION, signature_id, values["email"])
            db.session.commit()
    if signature_id is None:  # this address has signed here before
        db.session.rollback()
        return _signed_again(campaign.id, normalised)
    return SignOutcome.NEW


def _sign_in_one_statement(connection, values: dict) -> int | None:
    """PostgreSQL: the signature, its count and its confirmation email in one
    statement (data-modifying CTEs), which is a transaction by itself: run
    in autocommit, a signing costs one round trip to the database instead
    of six (BEGIN, three INSERTs, COMMIT and the pool's check)."""
    params = {**values, "shard": random.randrange(current_app.config["COUNTER_SHARDS"]),
              "kind": outbox.CONFIRMATION, "queued": OutboxStatus.QUEUED.value}
    row = connection.execute(_cached_statement("sign_in_one_statement", lambda: _build_sign_statement(values)),
                             params).one_or_none()
    return None if row is None else row.id


def _build_sign_statement(values: dict):
    signature, tally = Signature.__table__, SignatureTally.__table__
    new = _new_signature(values).returning(
        signature.c.id, signature.c.campaign_id, signature.c.email_opt_in, signature.c.email, signature.c.created_at,
    ).cte("new_signature")
    count = _counted_from(tally, _TALLY_KEYS, select(
        new.c.campaign_id, bindparam("status"), new.c.email_opt_in, bindparam("shard"), literal(1),
    )).cte("counted")
    queue = _queue_email(bindparam("kind"), new.c.email, new.c.id, new.c.created_at).cte("queued")
    return select(new.c.id).add_cte(count, queue)


def _queue_email(kind, recipient, signature_id, at):
    """INSERT ... SELECT of an outbox row that is rendered when it is sent."""
    return insert(OutboxMessage.__table__).from_select(
        ["kind", "recipient", "subject", "body_text", "signature_id", "status", "created_at", "due_at", "attempts"],
        select(kind, recipient, literal(""), literal(""), signature_id, bindparam("queued"), at, at, literal(0)),
    )


def _new_signature(values: dict):
    """INSERT ... ON CONFLICT DO NOTHING of the signature: it returns no row
    when the address has already signed, with no error to recover from."""
    return (dialect_insert(Signature.__table__)
            .values({column: bindparam(column) for column in values})
            .on_conflict_do_nothing(index_elements=["campaign_id", "email_normalised"]))


_statements: dict[tuple[str, str], object] = {}


def _cached_statement(name: str, build):
    """A statement built once per dialect and reused: building and compiling
    SQLAlchemy statements is a large share of a sign POST's time. The hot
    paths run them as Core statements, skipping the ORM's execute machinery."""
    key = (name, db.session.get_bind().dialect.name)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = build()
    return statement


def _autocommit():
    """A connection of its own in autocommit, for single statements that are
    transactions by themselves; returned to the pool when the block ends."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _alone(name: str, build, params: dict):
    """Run one cached statement in autocommit; its row, or None."""
    with _autocommit() as connection:
        return connection.execute(_cached_statement(name, build), params).one_or_none()


def _signed_again(campaign_id: int, normalised: str, connection=None) -> SignOutcome:
    """Someone signed with an address that already has a signature here.
    One conditional UPDATE both checks and spends the email allowance, so
    racing submissions can never send more than the cap between them; the
    email it allows (the confirmation again, or a note that the signature
    already counts) is queued with it and rendered when it is sent. On
    PostgreSQL (``connection``, in autocommit, the one that tried to sign)
    both are one statement, like signing: a repeated submission makes three
    round trips to the database (the pool's check, the signing statement and
    this one) where it made eight on two connections."""
    now = utcnow()
    params = {
        "in_campaign": campaign_id,
        "address": normalised,
        "now": now,
        "quiet_since": now - dt.timedelta(seconds=current_app.config["SIGNATURE_RESEND_QUIET_SECONDS"]),
        "cap": current_app.config["SIGNATURE_EMAIL_CAP"],
    }
    if connection is not None:
        claimed = connection.execute(
            _cached_statement("sign_again_in_one_statement", _build_sign_again_statement),
            {**params, "queued": OutboxStatus.QUEUED.value}).one_or_none()
    else:
        claimed = db.session.connection().execute(_cached_statement("claim_email", lambda: _claim_email().returning(
            *_CLAIMED)), params).one_or_none()
        if claimed is not None:
            outbox.enqueue_signature_email(outbox.EMAIL_ON_SIGNING_AGAIN[claimed.status], claimed.id, claimed.email)
            db.session.commit()
        else:
            db.session.rollback()
    if claimed is None:
        return SignOutcome.QUIET
    return SignOutcome.RESENT if claimed.status == SignatureStatus.PENDING else SignOutcome.ALREADY_SIGNED


_CLAIMED = (Signature.__table__.c.id, Signature.__table__.c.status, Signature.__table__.c.email)


def _claim_email():
    """The UPDATE that spends one email of a signature's allowance, if it
    has one left and the last email is not too recent."""
    signature = Signature.__table__
    return (
        update(signature)
        .where(
            signature.c.campaign_id == bindparam("in_campaign"),
            signature.c.email_normalised == bindparam("address"),
            signature.c.status.in_([SignatureStatus.PENDING.value, SignatureStatus.CONFIRMED.value]),
            signature.c.emails_sent < bindparam("cap"),
            or_(signature.c.last_emailed_at.is_(None), signature.c.last_emailed_at < bindparam("quiet_since")),
        )
        .values(emails_sent=signature.c.emails_sent + 1, last_emailed_at=bindparam("now"))
    )


def _build_sign_again_statement():
    claimed = _claim_email().returning(*_CLAIMED).cte("claimed")
    kind = case(outbox.EMAIL_ON_SIGNING_AGAIN, value=claimed.c.status)
    queue = _queue_email(kind, claimed.c.email, claimed.c.id, bindparam("now")).cte("queued")
    return select(claimed.c.id, claimed.c.status).add_cte(queue)


# --- Confirming and counting ------------------------------------------------

def confirm(signature_id: int) -> bool:
    """Confirm a pending signature and count it, in one transaction.
    Returns True if this call confirmed it; confirming again changes nothing."""
    confirmed = _confirm(signature_id)
    db.session.commit()
    return confirmed


@dataclass(frozen=True)
class CampaignSummary:
    """What the confirmation pages show of a campaign."""
    slug: str
    title: str
    pledge_text: str
    share_text: str


@dataclass(frozen=True)
class ConfirmationPage:
    """A signature as its confirmation page shows it."""
    status: str
    campaign: CampaignSummary
    count: int  # the campaign's confirmed count


def confirm_and_read(signature_id: int) -> ConfirmationPage | None:
    """``confirm``, then what the confirmation page shows, read in the same
    transaction (the count already includes this signature). On PostgreSQL
    it is one statement in autocommit: one round trip to the database. None
    if there is no such signature."""
    if on_postgresql():
        return _confirm_in_one_statement(signature_id)
    _confirm(signature_id)
    page = confirmation_page(signature_id)
    db.session.commit()
    return page


def _confirm(signature_id: int) -> bool:
    # One UPDATE both checks and changes the status (so a double POST counts
    # once, even when both arrive together) and returns what the counts need.
    now = utcnow()
    changed = db.session.connection().execute(
        _cached_statement("confirm", _confirm_update), _confirm_params(signature_id, now)).one_or_none()
    if changed is not None:
        count_transition(changed.campaign_id, changed.email_opt_in, SignatureStatus.PENDING,
                         SignatureStatus.CONFIRMED, day=now.date(), country=changed.country)
    return changed is not None


def confirm_signature(signature: Signature) -> bool:
    """``confirm`` for a loaded signature, which is refreshed afterwards."""
    confirmed = confirm(signature.id)
    db.session.refresh(signature)
    return confirmed


def _confirm_update():
    """The guarded UPDATE ... RETURNING what the counts need."""
    table = Signature.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("signature_id"), table.c.status == bindparam("pending"))
        .values(status=bindparam("confirmed"), confirmed_at=bindparam("now"))
        .returning(table.c.campaign_id, table.c.email_opt_in, table.c.country)
    )


def _confirm_params(signature_id: int, now: dt.datetime) -> dict:
    return {"signature_id": signature_id, "now": now, "pending": SignatureStatus.PENDING.value,
            "confirmed": SignatureStatus.CONFIRMED.value}


_CAMPAIGN_SHOWN = ("slug", "title", "pledge_text", "share_text")


def _confirmed_count(campaign_id):
    return (
        select(func.coalesce(func.sum(SignatureTally.signatures), 0))
        .where(SignatureTally.campaign_id == campaign_id, SignatureTally.status == SignatureStatus.CONFIRMED.value)
        .scalar_subquery()
    )


def _page_query():
    """The signature's status, its campaign as the pages show it, and the
    campaign's confirmed count."""
    signature, campaign = Signature.__table__, Campaign.__table__
    return (select(signature.c.status, *(campaign.c[name] for name in _CAMPAIGN_SHOWN),
                   _confirmed_count(signature.c.campaign_id).label("count"))
            .join_from(signature, campaign, campaign.c.id == signature.c.campaign_id)
            .where(signature.c.id == bindparam("signature_id")))


def _page(row, status: str, count: int) -> ConfirmationPage:
    return ConfirmationPage(status, CampaignSummary(*(getattr(row, name) for name in _CAMPAIGN_SHOWN)), count)


def confirmation_page(signature_id: int) -> ConfirmationPage | None:
    """What the confirmation page shows, read in one query; None if there
    is no such signature."""
    row = db.session.connection().execute(_cached_statement("confirmation_page", _page_query),
                                          {"signature_id": signature_id}).one_or_none()
    return None if row is None else _page(row, row.status, int(row.count))


def _confirm_in_one_statement(signature_id: int) -> ConfirmationPage | None:
    """PostgreSQL: the status change, the counts and the page's read in one
    statement (data-modifying CTEs), a transaction by itself. Its final
    SELECT sees the database as the statement began, so the page adds this
    confirmation to what it read."""
    now = utcnow()
    shards = current_app.config["COUNTER_SHARDS"]
    params = {**_confirm_params(signature_id, now), "day": now.date(),
              "pending_shard": random.randrange(shards), "confirmed_shard": random.randrange(shards),
              "daily_shard": random.randrange(shards)}
    row = _alone("confirm_in_one_statement", _build_confirm_statement, params)
    if row is None:
        return None
    if not row.confirmed_now and row.status == SignatureStatus.PENDING:
        # A click at the same moment confirmed it while this statement waited
        # for the row: its read is from before that, so read again.
        return confirmation_page(signature_id)
    if row.confirmed_now:
        return _page(row, SignatureStatus.CONFIRMED.value, int(row.count) + 1)
    return _page(row, row.status, int(row.count))


def _build_confirm_statement():
    tally, daily = SignatureTally.__table__, DailyCountryCount.__table__
    changed = _confirm_update().cte("changed")
    # Pending row first, then confirmed: the order every count change locks in.
    moves = _counted_from(tally, _TALLY_KEYS, union_all(
        select(changed.c.campaign_id, bindparam("pending"), changed.c.email_opt_in,
               bindparam("pending_shard"), literal(-1)),
        select(changed.c.campaign_id, bindparam("confirmed"), changed.c.email_opt_in,
               bindparam("confirmed_shard"), literal(1)),
    )).cte("moved")
    by_day = _counted_from(daily, _DAILY_KEYS, select(
        changed.c.campaign_id, bindparam("day"), changed.c.country, bindparam("daily_shard"), literal(1),
    )).cte("counted_by_day")
    return _page_query().add_columns(exists(select(changed.c.campaign_id)).label("confirmed_now")).add_cte(
        moves, by_day)


_TALLY_KEYS = ["campaign_id", "status", "email_opt_in", "shard"]
_DAILY_KEYS = ["campaign_id", "day", "country", "shard"]


def _or_add(stmt, keys: list[str]):
    """An INSERT into a count table that adds its ``signatures`` to the row
    already there, if there is one."""
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={"signatures": stmt.table.c.signatures + stmt.excluded.signatures})


def _counted_from(table, keys: list[str], rows):
    """PostgreSQL INSERT ... SELECT into a count table, adding to rows already there."""
    return _or_add(postgresql.insert(table).from_select([*keys, "signatures"], rows), keys)


def _upsert_add(model, rows: list[dict]) -> None:
    """INSERT each row, or add its ``signatures`` to the row already there.
    One cached statement, executed for every row in order (psycopg sends
    them together); rows are locked in the order given."""
    keys = [column for column in rows[0] if column != "signatures"]

    statement = _cached_statement(f"upsert:{model.__tablename__}:{','.join(keys)}",
                                  lambda: _or_add(dialect_insert(model.__table__), keys))
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
    # A random shard per change: concurrent changes to one campaign mostly
    # land on different rows and do not wait for each other's locks.
    shards = current_app.config["COUNTER_SHARDS"]
    tallies, daily = [], []
    for status, delta in ((old, -n), (new, n)):
        if status is None:
            continue
        tallies.append({"campaign_id": campaign_id, "status": status, "email_opt_in": bool(opt_in),
                        "shard": random.randrange(shards), "signatures": delta})
        if status == SignatureStatus.CONFIRMED:
            daily.append({"campaign_id": campaign_id, "day": day, "country": country,
                          "shard": random.randrange(shards), "signatures": delta})
    _upsert_add(SignatureTally, tallies)
    if daily:
        _upsert_add(DailyCountryCount, daily)


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


def recount(campaign: Campaign) -> tuple[int, int]:
    """Rebuild a campaign's stored counts from its signature rows.
    Returns (count before, count after)."""
    before = signature_count(campaign.id)
    if on_postgresql():
        # Hold off writers (they take ROW EXCLUSIVE on these tables) while
        # the counts are rebuilt; readers are not blocked.
        db.session.execute(
            text("LOCK TABLE signature_tally, daily_country_count IN EXCLUSIVE MODE")
        )
    for model in (SignatureTally, DailyCountryCount):
        db.session.execute(delete(model).where(model.campaign_id == campaign.id))
    mine = Signature.campaign_id == campaign.id
    for status, opt_in, n in db.session.execute(
        select(Signature.status, Signature.email_opt_in, func.count())
        .where(mine).group_by(Signature.status, Signature.email_opt_in)
    ).all():
        db.session.add(SignatureTally(campaign_id=campaign.id, status=status, email_opt_in=opt_in,
                                      shard=0, signatures=n))
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


# --- Goal -------------------------------------------------------------------

def displayed_goal(count: int, goal: int, fixed: bool) -> int:
    """The goal to show: once reached, it steps up to the next 1, 2 or 5 x 10^n
    above the count, unless the organiser fixed it."""
    if fixed or count < goal:
        return goal
    exponent = 0
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * 10**exponent
            if step > count:
                return step
        exponent += 1


def recent_public_signers(campaign_id: int, limit: int = 10) -> list[tuple[str, str]]:
    """First name and country of the latest confirmed signers who agreed to be shown."""
    rows = db.session.execute(
        select(Signature.given_name, Signature.country)
        .where(
            Signature.campaign_id == campaign_id,
            Signature.status == SignatureStatus.CONFIRMED,
            Signature.show_name.is_(True),
        )
        .order_by(Signature.confirmed_at.desc())
        .limit(limit)
    ).all()
    return [(row.given_name, row.country) for row in rows]


def live_campaigns() -> list[Campaign]:
    return list(
        db.session.execute(
            select(Campaign).where(Campaign.status == CampaignStatus.LIVE).order_by(Campaign.created_at)
        ).scalars()
    )
