"""The pledge service: sign, sign again, confirm. Owns its commits.

Signing and confirming are the launch-day hot paths. Each is a ``Chain``
(see ``statements``): one statement on PostgreSQL, run in autocommit, and
the same statements in one transaction on SQLite. Signing inserts the
signature (``ON CONFLICT DO NOTHING``: the unique constraint, not a prior
read, settles a second signing by the same address), adds it to the
pending count and queues its confirmation email, which the outbox worker
renders when it sends it. Signing again spends one email of the
signature's allowance and queues the email its status calls for.
Confirming moves the status with a guarded UPDATE (so a double POST counts
once), moves the counts and reads what the page shows."""
from __future__ import annotations

import datetime as dt
import enum
import functools
import threading
from dataclasses import dataclass

from cachetools import TTLCache
from flask import current_app
from sqlalchemy import Integer, and_, bindparam, case, exists, false, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import consents, counts, outbox, provenance, questions, webhooks
from .campaigns import where_slug
from .extensions import db, on_postgresql
from .identity import email_domain, hash_ip, normalise_email
from .models import (
    LIVE_SIGNATURE,
    LIVE_STATUSES,
    Campaign,
    CampaignStatus,
    Kind,
    LinkRefusal,
    ReasonStatus,
    Signature,
    SignatureStatus,
    utcnow,
)
from .provenance import Provenance
from .signature_mail import CONFIRMATION, EMAIL_ON_SIGNING_AGAIN
from .statements import Chain, cached, connection


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
    # Pledge follow-through, where the campaign asks (see PledgeAsks).
    pledge_date: dt.date | None = None
    reason: str | None = None
    reason_public: bool = False
    # Freeze follow-through: the signer's zone (see time_zones.signer_zone)
    # and their consent to reminder emails.
    time_zone: str | None = None
    reminder_opt_in: bool = False
    # Where the signature came from: the link's source codes, or the
    # partner site of an embedded form, and whose share link brought it.
    provenance: Provenance = Provenance()
    # The wording of each consent the form showed, by key (see
    # consents.texts_shown): the signature records its version. None: the
    # signature was not made through a form, and names no version.
    consent_texts: dict[str, str] | None = None
    # The language of the page it was signed on (see locales): its emails
    # are written in it. None: the campaign's default language.
    language: str | None = None


@dataclass(frozen=True)
class PledgeAsks:
    """What a pledge campaign's form asks beyond the usual: the date the
    signer will act from (labelled by the organiser's question), and their
    reason, shown on the page only with their consent once approved."""
    date_question: str | None  # None: no date asked
    reason: bool


def asks_of(campaign) -> PledgeAsks | None:
    """The follow-through ``campaign`` (a row with kind, asks_date,
    date_question, asks_reason) asks of signers, or None."""
    if campaign.kind != Kind.PLEDGE or not (campaign.asks_date or campaign.asks_reason):
        return None
    return PledgeAsks(campaign.date_question if campaign.asks_date else None, bool(campaign.asks_reason))


def reason_status(reason: str | None, public: bool) -> str | None:
    """A reason its signer agreed to show waits for an organiser's review."""
    return ReasonStatus.PENDING.value if reason and public else None


@dataclass(frozen=True)
class SigningTerms:
    """What a sign POST must know of a public campaign."""
    id: int
    slug: str
    status: str
    postcode_required: bool
    questions: tuple[questions.Question, ...] = ()
    asks: PledgeAsks | None = None
    kind: str = ""
    window_end: dt.datetime | None = None
    # What the page shows above the form: the pledge a signature agrees to.
    pledge_text: str = ""
    # The languages it is signed in (see translations.language_of).
    default_language: str = "en"
    published_languages: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.LIVE

    def freeze_over(self, now: dt.datetime) -> bool:
        """A freeze whose window has ended everywhere takes no signatures:
        nobody can join what is over."""
        return self.kind == Kind.FREEZE and self.window_end is not None and now >= self.window_end


@functools.cache
def _terms_cache(seconds: float) -> TTLCache:
    return TTLCache(maxsize=1000, ttl=seconds)


_terms_lock = threading.Lock()
_MISSING = object()


def signing_terms(slug: str) -> SigningTerms | None:
    """The terms of the public (live or closed) campaign ``slug``, or None.
    Kept for PUBLIC_LIVE_SECONDS in this process, like what the page the
    form came from read (see page_reads): under a spike, signing reads no
    campaign row at all. A campaign closed within that time may still take
    a signature."""
    seconds = current_app.config["PUBLIC_LIVE_SECONDS"]
    if seconds <= 0:
        return _load_terms(slug)
    cache = _terms_cache(seconds)
    with _terms_lock:
        terms = cache.get(slug, _MISSING)
    if terms is _MISSING:
        terms = _load_terms(slug)
        with _terms_lock:
            cache[slug] = terms
    return terms


def _load_terms(slug: str) -> SigningTerms | None:
    condition = where_slug(slug)
    if condition is None:
        return None
    # On a connection of its own, returned at once: the session holds none
    # while the signature is written.
    with db.engine.connect() as own:
        row = own.execute(select(Campaign.id, Campaign.slug, Campaign.status, Campaign.postcode_required,
                                 Campaign.kind, Campaign.asks_date, Campaign.date_question, Campaign.asks_reason,
                                 Campaign.window_end, Campaign.pledge_text, Campaign.default_language,
                                 Campaign.published_languages)
                          .where(condition)).one_or_none()
        if row is None or row.status == CampaignStatus.DRAFT:
            return None
        asked = questions.visible_questions(row.id, own)
    return SigningTerms(row.id, row.slug, row.status, row.postcode_required, asked, asks_of(row), kind=row.kind,
                        window_end=row.window_end, pledge_text=row.pledge_text or "",
                        default_language=row.default_language, published_languages=tuple(row.published_languages or ()))


class SignOutcome(enum.Enum):
    NEW = "new"                  # stored, confirmation queued
    RESENT = "resent"            # still pending: confirmation queued again
    ALREADY_SIGNED = "already"   # confirmed before: a short note queued
    QUIET = "quiet"              # nothing sent (email cap, double click, invalidated)


_SIGNATURE_VALUES = ("campaign_id", "given_name", "family_name", "email", "email_normalised", "email_domain",
                     "country", "postal_code", "email_opt_in", "show_name", "answers", "ip_hash", "status",
                     "emails_sent", "last_emailed_at", "created_at", "pledge_date", "reason", "reason_public",
                     "reason_status", "time_zone", "reminder_opt_in", "source", "medium", "source_campaign",
                     "referral_code", "consent_version_id", "language")


def _insert_signature():
    """INSERT ... ON CONFLICT DO NOTHING of the signature: it returns no row
    when the address has a live signature here, with no error to recover
    from. (One that was invalidated does not stop it signing again.)"""
    table = Signature.__table__
    insert = postgresql.insert if on_postgresql() else sqlite.insert
    # The referrer: the live signature here whose share link carried the code.
    referrer = (select(table.c.id).where(table.c.campaign_id == bindparam("campaign_id"),
                                         table.c.referral_code == bindparam("referred_by"),
                                         table.c.status.in_(LIVE_STATUSES))
                .scalar_subquery())
    values = {column: bindparam(column) for column in _SIGNATURE_VALUES}
    # Set here, not by the column's default: in a CTE no Python default runs.
    return (insert(table).values({**values, "referred_by_id": referrer, "modified_at": bindparam("created_at")})
            .on_conflict_do_nothing(index_elements=["campaign_id", "email_normalised"], index_where=LIVE_SIGNATURE)
            .returning(table.c.id, table.c.campaign_id, table.c.email_opt_in, table.c.email, table.c.created_at))


_SIGN = Chain(
    "sign",
    first=_insert_signature,
    then=(
        lambda row: counts.tally_added(row.campaign_id, bindparam("status"), false(), bindparam("shard"), 1),
        lambda row: outbox.queue_from(bindparam("kind"), row.email, at=row.created_at, signature_id=row.id),
    ),
)


def sign(campaign: Campaign | SigningTerms, pledge: Pledge, ip: str | None = None) -> SignOutcome:
    """Record a pending signature, count it and queue its confirmation email,
    in one transaction; or, if the (normalised) address has a live
    signature here, ``sign_again``. ``campaign`` needs only an ``id``."""
    normalised = normalise_email(pledge.email)
    now = utcnow()
    params = {
        "campaign_id": campaign.id,
        "given_name": pledge.given_name,
        "family_name": pledge.family_name,
        "email": pledge.email.strip(),
        "email_normalised": normalised,
        "email_domain": email_domain(normalised),
        "country": pledge.country,
        "postal_code": pledge.postal_code or None,
        "email_opt_in": bool(pledge.email_opt_in),
        "show_name": bool(pledge.show_name),
        "answers": pledge.answers or None,
        "pledge_date": pledge.pledge_date,
        "reason": pledge.reason or None,
        "reason_public": bool(pledge.reason and pledge.reason_public),
        "reason_status": reason_status(pledge.reason, pledge.reason_public),
        "time_zone": pledge.time_zone,
        "reminder_opt_in": bool(pledge.reminder_opt_in),
        "source": pledge.provenance.source,
        "medium": pledge.provenance.medium,
        "source_campaign": pledge.provenance.campaign,
        "referral_code": provenance.new_referral_code(),
        "referred_by": pledge.provenance.referral,
        "language": pledge.language,
        "ip_hash": hash_ip(ip),
        "status": SignatureStatus.PENDING.value,
        "emails_sent": 1,
        "last_emailed_at": now,
        "created_at": now,
        "shard": counts.random_shard(),
        "kind": CONFIRMATION,
    }
    with connection() as shared:
        # Found in this process's memory once the wording has been signed.
        params["consent_version_id"] = (consents.version_id(campaign.id, pledge.consent_texts, shared)
                                        if pledge.consent_texts else None)
        if _SIGN.run(params, shared) is not None:
            return SignOutcome.NEW
        return sign_again(campaign.id, normalised, params, shared)


# What signing again while pending replaces: the latest person to sign with
# the address is the one whose choices the confirmation page shows, with
# the wording they agreed to (consent_version_id) and the language of the
# page they signed on (their emails' language). Not the
# referral code (the first email's share link must keep working) nor the
# referrer (credit is not moved by signing again).
_REPLACED_WHILE_PENDING = ("given_name", "family_name", "email", "country", "postal_code", "email_opt_in",
                           "show_name", "answers", "ip_hash", "pledge_date", "reason", "reason_public",
                           "reason_status", "time_zone", "reminder_opt_in", "source", "medium", "source_campaign",
                           "consent_version_id", "language")


def _sign_again_update():
    """The UPDATE of the address's live signature: while it is pending, the
    new submission replaces what the last one recorded; and it spends one
    email of the signature's allowance if it has one left and the last
    email is not too recent (``claimed``: the new last_emailed_at is now)."""
    signature = Signature.__table__
    pending = signature.c.status == SignatureStatus.PENDING.value
    allowed = and_(signature.c.emails_sent < bindparam("cap"),
                   or_(signature.c.last_emailed_at.is_(None),
                       signature.c.last_emailed_at < bindparam("quiet_since")))
    replaced = {column: case((pending, bindparam(column, type_=signature.c[column].type)),
                             else_=signature.c[column]) for column in _REPLACED_WHILE_PENDING}
    return (
        update(signature)
        .where(
            signature.c.campaign_id == bindparam("in_campaign"),
            signature.c.email_normalised == bindparam("address"),
            signature.c.status.in_(LIVE_STATUSES),
        )
        .values(**replaced,
                emails_sent=case((allowed, signature.c.emails_sent + 1), else_=signature.c.emails_sent),
                last_emailed_at=case((allowed, bindparam("now")), else_=signature.c.last_emailed_at),
                modified_at=bindparam("now"))
        .returning(signature.c.id, signature.c.status, signature.c.email,
                   func.coalesce(signature.c.last_emailed_at == bindparam("now"), false()).label("claimed"))
    )


_SIGN_AGAIN = Chain(
    "sign again",
    first=_sign_again_update,
    then=(lambda row: outbox.queue_from(case(EMAIL_ON_SIGNING_AGAIN, value=row.status), row.email,
                                        at=bindparam("now"), signature_id=row.id, where=row.claimed),),
)


def sign_again(campaign_id: int, normalised: str, submitted: dict, shared=None) -> SignOutcome:
    """Someone signed with an address that already has a live signature
    here. One UPDATE replaces a pending signature's details with the new
    submission and both checks and spends the email allowance, so racing
    submissions can never send more than the cap between them; the email
    it allows (the confirmation again, or a note that the signature already
    counts) is queued with it. ``submitted``: the signing's parameters;
    ``shared``: the connection that tried to sign (see
    ``statements.connection``)."""
    now = utcnow()
    claimed = _SIGN_AGAIN.run({
        **{column: submitted[column] for column in _REPLACED_WHILE_PENDING},
        "in_campaign": campaign_id,
        "address": normalised,
        "now": now,
        "quiet_since": now - dt.timedelta(seconds=current_app.config["SIGNATURE_RESEND_QUIET_SECONDS"]),
        "cap": current_app.config["SIGNATURE_EMAIL_CAP"],
    }, shared)
    if claimed is None or not claimed.claimed:
        return SignOutcome.QUIET
    return SignOutcome.RESENT if claimed.status == SignatureStatus.PENDING else SignOutcome.ALREADY_SIGNED


def _resend_update():
    """The UPDATE that lets a "send it again" press have one more email: only
    for the address's live signature here, only while it has some of its
    allowance left and its last email is at least ``quiet_since`` old; it
    spends one. No row, no email."""
    signature = Signature.__table__
    return (
        update(signature)
        .where(
            signature.c.campaign_id == bindparam("in_campaign"),
            signature.c.email_normalised == bindparam("address"),
            signature.c.status.in_(LIVE_STATUSES),
            signature.c.emails_sent < bindparam("cap"),
            or_(signature.c.last_emailed_at.is_(None), signature.c.last_emailed_at < bindparam("quiet_since")),
        )
        .values(emails_sent=signature.c.emails_sent + 1, last_emailed_at=bindparam("now"), modified_at=bindparam("now"))
        .returning(signature.c.id, signature.c.status, signature.c.email)
    )


_RESEND = Chain(
    "resend",
    first=_resend_update,
    then=(lambda row: outbox.queue_from(case(EMAIL_ON_SIGNING_AGAIN, value=row.status), row.email,
                                        at=bindparam("now"), signature_id=row.id),),
)


def resend(campaign_id: int, email: str) -> SignOutcome:
    """The signer pressed "send the email again" on their thank-you page:
    queue the email signing again would (the confirmation link again, or a
    note that the signature already counts), if the signature's own
    allowance and SIGNATURE_RESEND_AFTER_SECONDS since its last email allow
    it. It changes nothing else, and it is an email like any other: the
    mailbox rules (stop-all, the unconfirmed-email caps) still decide at
    send time whether it goes, so pressing it can never mail an address
    more often than signing again could."""
    now = utcnow()
    config = current_app.config
    row = _RESEND.run({
        "in_campaign": campaign_id,
        "address": normalise_email(email),
        "now": now,
        "quiet_since": now - dt.timedelta(seconds=max(config["SIGNATURE_RESEND_AFTER_SECONDS"],
                                                      config["SIGNATURE_RESEND_QUIET_SECONDS"])),
        "cap": config["SIGNATURE_EMAIL_CAP"],
    })
    if row is None:
        return SignOutcome.QUIET
    return SignOutcome.RESENT if row.status == SignatureStatus.PENDING else SignOutcome.ALREADY_SIGNED


# --- Confirming ------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignSummary:
    """What the confirmation pages show of a campaign."""
    slug: str
    title: str
    pledge_text: str
    share_text: str
    id: int
    edition: int  # see Campaign.edition: the pages keep what they build of it per edition
    status: str = CampaignStatus.LIVE.value
    asks: PledgeAsks | None = None
    kind: str = ""


@dataclass(frozen=True)
class Choices:
    """What a confirmation records: shown on the confirmation page as the
    last signing left it, and changed there by the person who confirms."""
    given_name: str
    family_name: str
    country: str
    email_opt_in: bool
    show_name: bool
    pledge_date: dt.date | None = None
    reason: str | None = None
    reason_public: bool = False
    # A freeze's: reminder emails, and the zone they keep (None: unchanged).
    reminder_opt_in: bool = False
    time_zone: str | None = None


@dataclass(frozen=True)
class ConfirmationPage:
    """A signature as its confirmation page shows it."""
    status: str
    campaign: CampaignSummary
    count: int  # the campaign's confirmed count
    confirmed_now: bool = False  # this request confirmed it
    choices: Choices | None = None
    link_expired: bool = False

    @property
    def refusal(self) -> LinkRefusal | None:
        """Why this pending signature cannot be confirmed now, if it cannot."""
        if self.status != SignatureStatus.PENDING:
            return None
        if self.campaign.status == CampaignStatus.DRAFT:
            return LinkRefusal.NOT_OPEN
        if self.campaign.status == CampaignStatus.CLOSED:
            return LinkRefusal.CLOSED
        return LinkRefusal.EXPIRED if self.link_expired else None


_CAMPAIGN_SHOWN = ("slug", "title", "pledge_text", "share_text", "id", "edition")
_CHOICES = ("given_name", "family_name", "country", "email_opt_in", "show_name", "pledge_date", "reason",
            "reason_public", "reminder_opt_in")
# What the confirmation page needs to know of what the campaign asks.
_ASKS = ("kind", "asks_date", "date_question", "asks_reason")


def _link_sent_at(signature):
    """When the signature's latest confirmation link was emailed: links
    expire CONFIRM_LINK_DAYS after it."""
    return func.coalesce(signature.c.last_emailed_at, signature.c.created_at)


def _page_query():
    """The signature's status and choices, its campaign as the pages show
    it, and the campaign's confirmed count."""
    signature, campaign = Signature.__table__, Campaign.__table__
    return (select(signature.c.status, *(campaign.c[name] for name in _CAMPAIGN_SHOWN),
                   campaign.c.status.label("campaign_status"), *(signature.c[name] for name in _CHOICES),
                   *(campaign.c[name] for name in _ASKS), signature.c.time_zone,
                   (_link_sent_at(signature) < bindparam("expired_before")).label("link_expired"),
                   counts.confirmed_count(signature.c.campaign_id).label("count"))
            .join_from(signature, campaign, campaign.c.id == signature.c.campaign_id)
            .where(signature.c.id == bindparam("signature_id")))


def _confirm_update():
    """The guarded UPDATE ... RETURNING what the counts need: only a pending
    signature of a live campaign, from a link that has not expired, records
    the confirmer's choices and is confirmed."""
    table, campaign = Signature.__table__, Campaign.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("signature_id"), table.c.status == bindparam("pending"),
               _link_sent_at(table) >= bindparam("expired_before"),
               exists(select(campaign.c.id).where(campaign.c.id == table.c.campaign_id,
                                                  campaign.c.status == CampaignStatus.LIVE.value)))
        .values(status=bindparam("confirmed"), confirmed_at=bindparam("now"), modified_at=bindparam("now"),
                reason_status=bindparam("new_reason_status", type_=table.c.reason_status.type),
                **{name: bindparam(f"new_{name}", type_=table.c[name].type) for name in _CHOICES},
                time_zone=func.coalesce(bindparam("new_time_zone", type_=table.c.time_zone.type), table.c.time_zone))
        .returning(table.c.campaign_id, table.c.email_opt_in, table.c.country)
    )


_CONFIRM = Chain(
    "confirm",
    first=_confirm_update,
    # Pending row first, then confirmed: the order every count change locks in.
    then=(
        lambda row: counts.tally_added(row.campaign_id, bindparam("pending"), false(),
                                       bindparam("pending_shard"), -1),
        lambda row: counts.tally_added(row.campaign_id, bindparam("confirmed"), row.email_opt_in,
                                       bindparam("confirmed_shard"), 1),
        lambda row: counts.daily_added(row.campaign_id, bindparam("day"), row.country, bindparam("daily_shard"), 1),
        # The campaign's webhook endpoints that take it (usually none: it inserts nothing).
        lambda row: webhooks.event_rows(webhooks.SIGNATURE_CONFIRMED, row.campaign_id, at=bindparam("now"),
                                        headers=webhooks.headers_bind(),
                                        signature_id=bindparam("signature_id", type_=Integer)),
    ),
    read=_page_query,
)


def _expired_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=current_app.config["CONFIRM_LINK_DAYS"])


def confirm(signature_id: int, choices: Choices) -> ConfirmationPage | None:
    """Confirm a pending signature with the confirmer's ``choices`` and count
    it, in one transaction, and read what the confirmation page shows (the
    count includes this signature). Confirming again changes nothing; nor
    does confirming for a campaign that is not live or from an expired link
    (the page's ``refusal`` says why). None if there is no such signature."""
    now = utcnow()
    row = _CONFIRM.run({
        "signature_id": signature_id, "now": now, "day": now.date(), "expired_before": _expired_before(now),
        "pending": SignatureStatus.PENDING.value, "confirmed": SignatureStatus.CONFIRMED.value,
        "pending_shard": counts.random_shard(), "confirmed_shard": counts.random_shard(),
        "daily_shard": counts.random_shard(),
        **{f"new_{name}": getattr(choices, name) for name in _CHOICES},
        "new_reason_status": reason_status(choices.reason, choices.reason_public),
        "new_time_zone": choices.time_zone,
        "webhook_headers": webhooks.headers_param(webhooks.SIGNATURE_CONFIRMED, now),
    })
    if row is None:
        return None
    if not on_postgresql():
        return _page(row, row.status, int(row.count), row.changed)
    # PostgreSQL: the statement's read sees the database as the statement
    # began, so it adds this confirmation to the count itself...
    if row.changed:
        return _page(row, SignatureStatus.CONFIRMED.value, int(row.count) + 1, True, choices)
    if row.status == SignatureStatus.PENDING and not _page(row, row.status, 0, False).refusal:
        # ...and a click at the same moment confirmed it while this statement
        # waited for the row: its read is from before that, so read again.
        return confirmation_page(signature_id)
    return _page(row, row.status, int(row.count), False)


def _page(row, status: str, count: int, confirmed_now: bool, choices: Choices | None = None) -> ConfirmationPage:
    campaign = CampaignSummary(*(getattr(row, name) for name in _CAMPAIGN_SHOWN), status=row.campaign_status,
                               asks=asks_of(row), kind=row.kind)
    return ConfirmationPage(status, campaign, count, confirmed_now,
                            choices or Choices(*(getattr(row, name) for name in _CHOICES), time_zone=row.time_zone),
                            bool(row.link_expired))


def confirmation_page(signature_id: int) -> ConfirmationPage | None:
    """What the confirmation page shows, read in one query; None if there
    is no such signature."""
    row = db.session.connection().execute(cached("confirmation_page", _page_query), {
        "signature_id": signature_id, "expired_before": _expired_before(utcnow())}).one_or_none()
    return None if row is None else _page(row, row.status, int(row.count), False)
