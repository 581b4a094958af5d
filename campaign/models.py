"""Typed SQLAlchemy 2.0 models."""
from __future__ import annotations

import datetime as dt
import enum
from zoneinfo import ZoneInfo

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> dt.datetime:
    """Naive UTC: every timestamp is stored as UTC without a zone."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Kind(enum.StrEnum):
    BOYCOTT = "boycott"
    PLEDGE = "pledge"
    FREEZE = "freeze"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"


class SignatureStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    INVALIDATED = "invalidated"
    # Taken back by the signer themselves ("Manage my data"): off the count,
    # not suspected of anything; their address may sign again.
    WITHDRAWN = "withdrawn"


class WindowState(enum.StrEnum):
    NONE = "none"
    UPCOMING = "upcoming"
    HAPPENING = "happening"
    ENDED = "ended"


class LinkRefusal(enum.StrEnum):
    """Why an emailed confirmation link (a signature's, a business pledge's)
    confirms nothing now."""
    NOT_OPEN = "not open"  # the campaign is a draft again
    CLOSED = "closed"
    EXPIRED = "expired"    # CONFIRM_LINK_DAYS after the latest email that carried it


def window_state(start: dt.datetime | None, end: dt.datetime | None,
                 now: dt.datetime | None = None) -> WindowState:
    """Where ``now`` falls in a campaign's window (naive UTC times)."""
    if start is None or end is None:
        return WindowState.NONE
    now = now or utcnow()
    if now < start:
        return WindowState.UPCOMING
    if now < end:
        return WindowState.HAPPENING
    return WindowState.ENDED


class ReasonStatus(enum.StrEnum):
    """An organiser's review of a reason its signer agreed to show."""
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class WindowMode(enum.StrEnum):
    """How a freeze's window applies: one span of time for everyone, or the
    same local hours in each signer's own time zone (as Earth Hour does)."""
    GLOBAL = "global"
    LOCAL = "local"


def _one_of(enum_cls: type[enum.StrEnum], column: str) -> Enum:
    """A text column holding one of ``enum_cls``'s values, checked by the
    database (CHECK ck_<table>_<column>, portable, unlike a native enum)."""
    return Enum(enum_cls, native_enum=False, create_constraint=True, length=16, name=column,
                values_callable=lambda members: [m.value for m in members])


class Campaign(db.Model):
    __tablename__ = "campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(_one_of(Kind, "kind"))
    status: Mapped[str] = mapped_column(_one_of(CampaignStatus, "status"), default=CampaignStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    story: Mapped[str] = mapped_column(Text, default="")
    pledge_text: Mapped[str] = mapped_column(Text, default="")
    demands: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[int] = mapped_column(Integer, default=1000)
    goal_fixed: Mapped[bool] = mapped_column(default=False)
    # The pause window (boycott) or protest window (freeze), in UTC.
    window_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    window_end: Mapped[dt.datetime | None] = mapped_column(DateTime)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    postcode_required: Mapped[bool] = mapped_column(default=False)
    share_text: Mapped[str] = mapped_column(String(280), default="")
    # What to do once a freeze has ended: shown on the "ended" page.
    next_action: Mapped[str] = mapped_column(Text, default="")
    # Freeze follow-through: the statement signers post; whether the window
    # is one span for everyone or the same local hours in every zone (then
    # local_start/local_end hold the wall-clock hours and window_start/end
    # the span from its first start anywhere to its last end anywhere); and
    # whether signers who asked for reminders are asked afterwards whether
    # they took part.
    statement: Mapped[str] = mapped_column(Text, default="", server_default="")
    window_mode: Mapped[str] = mapped_column(_one_of(WindowMode, "window_mode"), default=WindowMode.GLOBAL,
                                             server_default=WindowMode.GLOBAL.value)
    local_start: Mapped[dt.datetime | None] = mapped_column(DateTime)
    local_end: Mapped[dt.datetime | None] = mapped_column(DateTime)
    check_in_email: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Pledge follow-through: the sign form may ask for a date ("I'll log off
    # from ...", labelled by date_question) and a reason, which the page
    # shows only with the signer's consent and once an organiser approved it.
    asks_date: Mapped[bool] = mapped_column(default=False, server_default=false())
    date_question: Mapped[str] = mapped_column(String(200), default="", server_default="")
    asks_reason: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Partner sites that may show the campaign's embed page in a frame: one
    # origin (scheme://host[:port]) per line; or any site, when the
    # organiser lets anyone embed it. Every other page refuses framing.
    embed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    embed_anyone: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Email opted-in supporters automatically when the goal (and each raised goal) is reached.
    milestone_emails: Mapped[bool] = mapped_column(default=False)
    # A generated file name under <instance>/uploads, served at /media/<name>.
    image_filename: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Retention (see retention): when it was last closed (None while live or
    # a draft); how many days after that its signers' personal details are
    # kept (None: the site's RETENTION_DAYS_AFTER_CLOSE); when the sweep
    # finished anonymising its signatures.
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Goes up with every change to what the public pages show (the campaign,
    # its questions, its approved businesses: see the events at the end), so
    # parts of a page built once can be kept until the next change.
    edition: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Languages (see locales): the campaign's own text is in default_language
    # (its pages without a language in the path show it); each of
    # published_languages has a complete CampaignTranslation and its pages
    # at /<language>/c/<slug>. A language not published is not shown at all.
    default_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    published_languages: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    businesses: Mapped[list[Business]] = relationship(back_populates="campaign")
    translations: Mapped[list[CampaignTranslation]] = relationship(
        back_populates="campaign", order_by="CampaignTranslation.language", passive_deletes=True)

    @property
    def demand_list(self) -> list[str]:
        return [line.strip() for line in self.demands.splitlines() if line.strip()]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.LIVE

    def window_state(self, now: dt.datetime | None = None) -> WindowState:
        return window_state(self.window_start, self.window_end, now)

    @property
    def local_hours(self) -> bool:
        """A freeze at the same local hours in every zone (see WindowMode)."""
        return self.window_mode == WindowMode.LOCAL and self.local_start is not None


class CampaignTranslation(db.Model):
    """A campaign's text in another language than its default: every field
    a person reads. An empty field is a missing translation (the editor
    lists them); only a language with none missing may be published."""

    __tablename__ = "campaign_translation"
    __table_args__ = (UniqueConstraint("campaign_id", "language", name="uq_campaign_translation_campaign_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(String(500), default="")
    story: Mapped[str] = mapped_column(Text, default="")
    pledge_text: Mapped[str] = mapped_column(Text, default="")
    demands: Mapped[str] = mapped_column(Text, default="")
    share_text: Mapped[str] = mapped_column(String(280), default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    next_action: Mapped[str] = mapped_column(Text, default="")
    date_question: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="translations")


LIVE_STATUSES = (SignatureStatus.PENDING.value, SignatureStatus.CONFIRMED.value)
# The condition of the partial unique index on (campaign, address); an
# INSERT ... ON CONFLICT names it to use that index.
LIVE_SIGNATURE = text("status IN ('pending', 'confirmed')")
REMINDED = text("confirm_reminded_at IS NOT NULL")


class Signature(db.Model):
    __tablename__ = "signature"
    __table_args__ = (
        # Settles double submissions: the database, not a prior SELECT. Only
        # a live (pending or confirmed) signature holds its address: one that
        # was invalidated stays on record, and its address may sign again.
        Index("uq_signature_campaign_email", "campaign_id", "email_normalised", unique=True,
              sqlite_where=LIVE_SIGNATURE, postgresql_where=LIVE_SIGNATURE),
        Index("ix_signature_campaign_status_confirmed", "campaign_id", "status", "confirmed_at"),
        Index("ix_signature_campaign_status_opt_in", "campaign_id", "status", "email_opt_in"),
        Index("ix_signature_campaign_domain", "campaign_id", "email_domain"),
        Index("ix_signature_campaign_ip", "campaign_id", "ip_hash"),
        Index("ix_signature_campaign_created", "campaign_id", "created_at"),
        # Fan-out walks a campaign's signatures in id order, a batch at a time.
        Index("ix_signature_campaign_id_id", "campaign_id", "id"),
        # The reasons awaiting review, and those approved for the page.
        Index("ix_signature_campaign_reason", "campaign_id", "reason_status"),
        # A freeze's reminders go to its confirmed signers who asked for them.
        Index("ix_signature_campaign_reminders", "campaign_id", "reminder_opt_in", "status"),
        # Signatures by where they came from, for the dashboard and exports.
        Index("ix_signature_campaign_source", "campaign_id", "source"),
        # The one reminder to confirm goes to pending signatures by age.
        Index("ix_signature_campaign_status_created", "campaign_id", "status", "created_at"),
        # A supporter's own data (see my_data), and stopping all email, by mailbox.
        Index("ix_signature_email_normalised", "email_normalised"),
        # The dashboard's reminder figures read only the signatures reminded.
        Index("ix_signature_campaign_reminded", "campaign_id", "confirm_reminded_at",
              sqlite_where=REMINDED, postgresql_where=REMINDED),
        # The API lists a campaign's signatures by keyset on (modified_at, id).
        Index("ix_signature_campaign_modified", "campaign_id", "modified_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320))
    # For fraud review: group and search signatures by email domain.
    email_domain: Mapped[str] = mapped_column(String(255), default="")
    country: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    # Consent: both unticked by default; the time of consent is created_at.
    email_opt_in: Mapped[bool] = mapped_column(default=False)
    show_name: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(_one_of(SignatureStatus, "status"), default=SignatureStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A keyed hash of the client address, for spotting bulk fraud without
    # keeping the address itself.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    emails_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    invalidation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invalidation.id", ondelete="SET NULL"), index=True
    )
    # Answers to the campaign's own questions: {str(question id): answer};
    # NULL when there were none to give.
    answers: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # Pledge follow-through (campaigns that ask): the date the signer pledges
    # to act from, and their reason in their own words; reason_public is
    # their consent to show it, reason_status the organiser's review.
    pledge_date: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    reason_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    reason_status: Mapped[str | None] = mapped_column(_one_of(ReasonStatus, "reason_status"))
    reason_reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Freeze follow-through: the signer's time zone (from their browser,
    # else their country; changeable when confirming); their consent to
    # reminder emails (its time is created_at, or confirmed_at when changed
    # there); when each freeze email was queued for them (each goes once);
    # and their answer to "Did you take part?".
    time_zone: Mapped[str | None] = mapped_column(String(64))
    reminder_opt_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    reminded_day_before_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reminded_start_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    check_in_asked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    took_part: Mapped[bool | None] = mapped_column()
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Where the signature came from (normalised, capped): the link's
    # ?source= or utm_source (or the partner's host for a signature made in
    # an embedded form), utm_medium ("embed" there), utm_campaign.
    source: Mapped[str | None] = mapped_column(String(64))
    medium: Mapped[str | None] = mapped_column(String(64))
    source_campaign: Mapped[str | None] = mapped_column(String(64))
    # The signer's own share link carries this code (not their address or
    # id); a signature made through someone's link names them here.
    referral_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("signature.id", ondelete="SET NULL"), index=True)
    # The one reminder to confirm, queued once for a signature still pending
    # a day after signing.
    confirm_reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When the retention sweep removed its personal details (see retention):
    # such a row keeps its status, country, days and consents, and counts.
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The wording of the consents the signer agreed to (see consents): the
    # time of agreeing is created_at.
    consent_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("consent_version.id", ondelete="SET NULL"), index=True)
    # When the signer withdrew it (status withdrawn).
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The language the signer signed in (see locales): their emails are
    # written in it. None: from before languages, the campaign's default.
    language: Mapped[str | None] = mapped_column(String(8))
    # When anything about it last changed (every UPDATE sets it): what the
    # API's incremental sync filters and pages on (see api).
    modified_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow,
                                                     server_default=text("CURRENT_TIMESTAMP"))

    campaign: Mapped[Campaign] = relationship()


class ConsentVersion(db.Model):
    """The exact texts a campaign's sign form showed for each consent (the
    pledge, updates by email, the name on the public list, ...), by key. A
    change of any wording makes the next version; each signature names the
    version it agreed to."""

    __tablename__ = "consent_version"
    __table_args__ = (
        UniqueConstraint("campaign_id", "digest", name="uq_consent_version_campaign_digest"),
        UniqueConstraint("campaign_id", "number", name="uq_consent_version_campaign_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # 1, 2, ... per campaign: what exports and the supporter's own page name.
    number: Mapped[int] = mapped_column(Integer)
    # {key: text shown}
    texts: Mapped[dict] = mapped_column(JSON)
    # SHA-256 of the texts, to find the version a form's wording already has.
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PrivacyLink(db.Model):
    """A "Manage my data" link we emailed to a mailbox: the link carries
    this row's id, signed and dated; it opens that mailbox's data for
    PRIVACY_LINK_HOURS and is forgotten after."""

    __tablename__ = "privacy_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The canonical mailbox (identity.normalise_email).
    mailbox: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class PrivacyEvent(db.Model):
    """What a supporter did with their data (asked for a link, downloaded,
    changed a consent, withdrew, erased), and when: the mailbox only as a
    one-way hash (identity.mailbox_hash), nothing else personal."""

    __tablename__ = "privacy_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    mailbox_hash: Mapped[str] = mapped_column(String(64), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))
    detail: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ErasedMailbox(db.Model):
    """A mailbox whose owner erased their data: kept only as a one-way hash
    (identity.mailbox_hash) so that no email ever reaches it again."""

    __tablename__ = "erased_mailbox"

    mailbox_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QuestionKind(enum.StrEnum):
    TEXT = "text"      # a line of text
    LONG = "long"      # a paragraph
    YESNO = "yesno"    # answered "yes" or "no"
    CHOICE = "choice"  # one of ``choices``


class SignQuestion(db.Model):
    """A question an organiser adds to a campaign's sign form."""

    __tablename__ = "sign_question"
    __table_args__ = (Index("ix_sign_question_campaign_position", "campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[QuestionKind] = mapped_column(_one_of(QuestionKind, "kind"))
    required: Mapped[bool] = mapped_column(default=False)
    # Whether the signer list export has a column for it.
    in_export: Mapped[bool] = mapped_column(default=True)
    # Off the form; its answers stay stored and exported.
    hidden: Mapped[bool] = mapped_column(default=False)
    # The answers to choose from, for a ``choice`` question.
    choices: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The label and choices in other languages: {language: {"label": str,
    # "choices": [str, ...] (in the order of ``choices``)}}.
    translations: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    campaign: Mapped[Campaign] = relationship()


class SignatureTally(db.Model):
    """Signatures of a campaign by status and consent to updates, spread over
    COUNTER_SHARDS rows per key. Confirmations add to a random shard, so many
    at once do not wait on a single row lock; readers sum a handful of rows.
    The public count is the sum of the confirmed rows."""

    __tablename__ = "signature_tally"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    email_opt_in: Mapped[bool] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    signatures: Mapped[int] = mapped_column(Integer, default=0)


class CheckInTally(db.Model):
    """Answers to a freeze's "Did you take part?" by answer, sharded like
    SignatureTally: the page in the "ended" state and the dashboard read
    how many took part from here, never from counting signatures."""

    __tablename__ = "check_in_tally"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    took_part: Mapped[bool] = mapped_column(primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)


class DailyCountryCount(db.Model):
    """Confirmed signatures by UTC day of confirmation and country, sharded
    like SignatureTally; exports and charts sum over it."""

    __tablename__ = "daily_country_count"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    signatures: Mapped[int] = mapped_column(Integer, default=0)


class BusinessStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CompanySize(enum.StrEnum):
    MICRO = "1-9"
    SMALL = "10-49"
    MEDIUM = "50-249"
    LARGE = "250+"


class Business(db.Model):
    """A business pledging to pause its ads during a boycott."""

    __tablename__ = "business"
    __table_args__ = (
        # One entry per organisation name and contact domain: a pledge under
        # the same name from another domain is a separate entry for the
        # organisers to judge, never dropped.
        UniqueConstraint("campaign_id", "organisation_key", "contact_domain",
                         name="uq_business_campaign_organisation_domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation: Mapped[str] = mapped_column(String(200))
    # Case- and space-folded name: one entry per organisation per campaign.
    # Case folding can triple a name's length ("ﬃ" -> "ffi").
    organisation_key: Mapped[str] = mapped_column(String(600))
    # Up to 300 typed characters, plus the "https://" we may add.
    website: Mapped[str] = mapped_column(String(320))
    contact_email: Mapped[str] = mapped_column(String(320))
    # The contact address's domain, shown to organisers beside the website's.
    contact_domain: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # When the contact address confirmed the pledge (the link we emailed it):
    # until then organisers cannot approve it.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When the confirmation email was last queued (a pledge made again asks again, not too often).
    last_emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    company_size: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(_one_of(BusinessStatus, "status"), default=BusinessStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # The pause the business states when it pledges, both days included
    # (see pause_periods): no end is "until further notice"; no start, an
    # entry from before pause periods were asked for. Extending moves the end.
    pause_start: Mapped[dt.date | None] = mapped_column(Date)
    pause_end: Mapped[dt.date | None] = mapped_column(Date)
    # The day it advertised again, as an organiser recorded it (with a note
    # and evidence: its "resumed" event).
    resumed_on: Mapped[dt.date | None] = mapped_column(Date)
    # The language the pledge was made in: its emails are written in it.
    language: Mapped[str | None] = mapped_column(String(8))

    campaign: Mapped[Campaign] = relationship(back_populates="businesses")
    events: Mapped[list[BusinessEvent]] = relationship(
        back_populates="business", order_by="BusinessEvent.id", passive_deletes=True)


class BusinessEventKind(enum.StrEnum):
    PLEDGED = "pledged"
    EXTENDED = "extended"
    RESUMED = "resumed"


class BusinessEvent(db.Model):
    """A dated entry of a business's public timeline: it pledged a pause,
    extended it, or (as an organiser recorded, with evidence) resumed."""

    __tablename__ = "business_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(_one_of(BusinessEventKind, "kind"))
    # The day it happened (for "resumed", the day the organiser gives).
    happened_on: Mapped[dt.date] = mapped_column(Date)
    # The pause as this entry left it ("pledged", "extended").
    pause_start: Mapped[dt.date | None] = mapped_column(Date)
    pause_end: Mapped[dt.date | None] = mapped_column(Date)
    # Public: the organiser's note and the link to the evidence ("resumed").
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    evidence_url: Mapped[str | None] = mapped_column(String(2000))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    business: Mapped[Business] = relationship(back_populates="events")


class DemandStatus(enum.StrEnum):
    NO_RESPONSE = "no_response"
    PARTLY_MET = "partly_met"
    MET = "met"
    REJECTED = "rejected"


class Demand(db.Model):
    """A line of a campaign's ``demands`` on its scorecard, found by the
    line's folded text (see scorecard): rewording a line starts a new row,
    and the old one keeps its history off the public page."""

    __tablename__ = "demand"
    __table_args__ = (UniqueConstraint("campaign_id", "key", name="uq_demand_campaign_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # A hash of the line, case- and space-folded.
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # The status of its latest entry.
    status: Mapped[str] = mapped_column(_one_of(DemandStatus, "status"), default=DemandStatus.NO_RESPONSE)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    entries: Mapped[list[DemandEntry]] = relationship(
        back_populates="demand", order_by="[DemandEntry.happened_on, DemandEntry.id]", passive_deletes=True)


class DemandEntry(db.Model):
    """A dated change of a demand's status, with a link to its source."""

    __tablename__ = "demand_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demand.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(_one_of(DemandStatus, "status"))
    happened_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    source_url: Mapped[str | None] = mapped_column(String(2000))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    demand: Mapped[Demand] = relationship(back_populates="entries")


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Not sent on purpose: the recipient unsubscribed, or the update was cancelled.
    SKIPPED = "skipped"


# A finished message (sent, skipped or a dead letter) whose personal data
# the retention sweep has not yet cleared (it empties the recipient).
OUTBOX_UNSCRUBBED = text("recipient <> '' AND status IN ('sent', 'skipped', 'failed')")


class OutboxMessage(db.Model):
    """An email waiting to be sent, written in the same transaction as the
    change that caused it; the worker delivers it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_status_due", "status", "due_at"),
        # One delivery of an update per signature, however often fan-out resumes.
        UniqueConstraint("update_id", "signature_id", name="uq_outbox_message_update_signature"),
        # Finished messages still holding an address, oldest first: what the
        # retention sweep clears, found without reading those it cleared.
        Index("ix_outbox_message_unscrubbed_due", "due_at",
              sqlite_where=OUTBOX_UNSCRUBBED, postgresql_where=OUTBOX_UNSCRUBBED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    # Empty for an update's deliveries: those are rendered when sent, from
    # the update and the signature, so a million rows stay small.
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    update_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_update.id", ondelete="CASCADE"))
    headers: Mapped[dict | None] = mapped_column(JSON)
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signature.id", ondelete="SET NULL"), index=True
    )
    business_id: Mapped[int | None] = mapped_column(ForeignKey("business.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(_one_of(OutboxStatus, "status"), default=OutboxStatus.QUEUED)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # While a worker holds the row; past this time another may take it.
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A webhook event's endpoint (see webhooks); None for an email.
    webhook_endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True)


class ApiKey(db.Model):
    """An organiser's key to the API (see api_keys): shown once, kept only
    as a hash, limited to some campaigns and some permissions."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the key, to recognise it by on the screen.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated permissions: read_counts, read_signers, write_signatures,
    # confirm_signatures (write signatures already confirmed; audited).
    permissions: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    organiser: Mapped[Organiser] = relationship()
    campaigns: Mapped[list[Campaign]] = relationship(secondary="api_key_campaign", order_by="Campaign.id")


class ApiKeyCampaign(db.Model):
    __tablename__ = "api_key_campaign"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)


class WebhookEndpoint(db.Model):
    """Where a campaign's events are POSTed (see webhooks)."""

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret: needed to sign every delivery, so kept as it is;
    # shown to the organiser once.
    secret: Mapped[str] = mapped_column(String(100))
    # The events it receives, space-separated with a space at each end
    # (" signature.confirmed campaign.milestone "), so one LIKE finds them.
    events: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()


class WebhookAttempt(db.Model):
    """One try at delivering a webhook event: the endpoint's delivery log."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_endpoint_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    # The HTTP status; None when no answer came (refused, timed out...).
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    # The start of the answer's body, at most 1 KB.
    response: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Organiser(UserMixin, db.Model):
    """A person who runs campaigns. Admins see every campaign; others only
    those they are members of."""

    __tablename__ = "organiser"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Two-factor authentication (see two_factor): the TOTP secret, set while
    # enrolling and kept once a code from it has turned it on; the last time
    # step a code was accepted for, so that no code works twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def is_active(self) -> bool:
        """Flask-Login: an inactive organiser cannot log in."""
        return self.active

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None


class RecoveryCode(db.Model):
    """One of an organiser's single-use recovery codes for two-factor login,
    stored only as a hash; the codes themselves are shown once."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SiteSetting(db.Model):
    """A setting of the whole site that admins change on screen (see
    site_settings), stored as text by name."""

    __tablename__ = "site_setting"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OrganiserSession(db.Model):
    """A logged-in organiser's session, kept on the server so it can be
    ended: the session cookie carries a random id whose hash is the key. It
    lasts until logged out, ended with the others ("log out everywhere",
    deactivation), idle too long or too old (see signins)."""

    __tablename__ = "organiser_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organiser.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LoginThrottle(db.Model):
    """Failed logins for one address (known or not, so that it says nothing
    of which addresses have accounts): after a few, attempts from a browser
    that has never logged in to it must wait, longer after each failure."""

    __tablename__ = "login_throttle"

    login: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Invitation(db.Model):
    """An admin's invitation to an address: to a campaign, or as an admin.
    The emailed link lets the invitee set a password (or, with an account
    already, accept); it works once, for INVITATION_DAYS."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    as_admin: Mapped[bool] = mapped_column(default=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    campaign: Mapped[Campaign | None] = relationship()
    invited_by: Mapped[Organiser | None] = relationship()


class AuditEvent(db.Model):
    """Something an organiser did that changed or exported data, or a login
    (failed ones too): who, when, what, and a keyed hash of the client
    address. ``detail`` says what without personal data."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_organiser_created", "organiser_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict | None] = mapped_column(JSON)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    organiser: Mapped[Organiser | None] = relationship()
    campaign: Mapped[Campaign | None] = relationship()


class Membership(db.Model):
    __tablename__ = "membership"

    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organiser.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ExportRecord(db.Model):
    """Who exported what, and when."""

    __tablename__ = "export_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    # e.g. "counts by day (csv)", "signer list (csv)"; "cli" exports have no organiser.
    what: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    organiser: Mapped[Organiser | None] = relationship()


class Invalidation(db.Model):
    """A batch of signatures withdrawn by an organiser; can be undone."""

    __tablename__ = "invalidation"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # The search that chose the signatures, as the organiser described it.
    criteria: Mapped[dict | None] = mapped_column(JSON)
    signatures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    organiser: Mapped[Organiser | None] = relationship()


class UpdateStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"   # waiting for its time
    SENDING = "sending"       # deliveries being created and sent
    SENT = "sent"             # every delivery created
    CANCELLED = "cancelled"


class CampaignUpdate(db.Model):
    """An email from the organisers to a campaign's opted-in supporters."""

    __tablename__ = "campaign_update"
    __table_args__ = (
        # A milestone email goes out once per milestone.
        UniqueConstraint("campaign_id", "milestone", name="uq_campaign_update_milestone"),
        Index("ix_campaign_update_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organiser.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(_one_of(UpdateStatus, "status"), default=UpdateStatus.DRAFT)
    milestone: Mapped[int | None] = mapped_column(Integer)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Fan-out progress: deliveries exist for every signature id up to this.
    fanout_cursor: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    fanout_done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The subject and body in other languages than the campaign's default:
    # {language: {"subject": str, "body": str}}; a supporter who signed in a
    # language without one gets the default.
    translations: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    campaign: Mapped[Campaign] = relationship()
    organiser: Mapped[Organiser | None] = relationship()


class Suppression(db.Model):
    """An address that asked for no more email from this site at all."""

    __tablename__ = "suppression"

    email_normalised: Mapped[str] = mapped_column(String(320), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MailboxAllowance(db.Model):
    """How many emails a mailbox was sent before it proved it wanted them
    (confirmation links, "you already signed" notes), in the current hour
    and day windows: the cap that keeps anyone from using the site to flood
    someone else's inbox, whatever campaign or address variant they use.
    Each window starts with the first email counted in it."""

    __tablename__ = "mailbox_allowance"

    # The canonical mailbox (identity.normalise_email).
    mailbox: Mapped[str] = mapped_column(String(320), primary_key=True)
    hour_from: Mapped[dt.datetime] = mapped_column(DateTime)
    hour_sent: Mapped[int] = mapped_column(Integer, default=0)
    day_from: Mapped[dt.datetime] = mapped_column(DateTime)
    day_sent: Mapped[int] = mapped_column(Integer, default=0)


# --- Editions: what makes a campaign's public pages change -------------------

@event.listens_for(Campaign, "before_update")
def _campaign_changed(mapper, connection, campaign: Campaign) -> None:
    campaign.edition = Campaign.edition + 1


def _next_edition(connection, campaign_id: int) -> None:
    connection.execute(update(Campaign.__table__).where(Campaign.__table__.c.id == campaign_id)
                       .values(edition=Campaign.__table__.c.edition + 1))


@event.listens_for(SignQuestion, "after_insert")
@event.listens_for(SignQuestion, "after_update")
@event.listens_for(SignQuestion, "after_delete")
def _question_changed(mapper, connection, question: SignQuestion) -> None:
    _next_edition(connection, question.campaign_id)


@event.listens_for(CampaignTranslation, "after_insert")
@event.listens_for(CampaignTranslation, "after_update")
@event.listens_for(CampaignTranslation, "after_delete")
def _translation_changed(mapper, connection, translation: CampaignTranslation) -> None:
    _next_edition(connection, translation.campaign_id)


@event.listens_for(Business, "after_insert")
@event.listens_for(Business, "after_update")
@event.listens_for(Business, "after_delete")
def _business_changed(mapper, connection, business: Business) -> None:
    """Only a business that is, or was, on the public list changes the page:
    a new pledge waiting for a decision does not."""
    history = inspect(business).attrs.status.history
    if BusinessStatus.APPROVED in (business.status, *history.deleted):
        _next_edition(connection, business.campaign_id)


@event.listens_for(BusinessEvent, "after_insert")
@event.listens_for(BusinessEvent, "after_update")
@event.listens_for(BusinessEvent, "after_delete")
def _business_event_changed(mapper, connection, entry: BusinessEvent) -> None:
    """A timeline entry shows only while its business is on the public list."""
    business = Business.__table__
    connection.execute(update(Campaign.__table__).where(
        Campaign.__table__.c.id == select(business.c.campaign_id).where(
            business.c.id == entry.business_id, business.c.status == BusinessStatus.APPROVED.value)
        .scalar_subquery()).values(edition=Campaign.__table__.c.edition + 1))


@event.listens_for(Demand, "after_insert")
@event.listens_for(Demand, "after_update")
@event.listens_for(Demand, "after_delete")
def _demand_changed(mapper, connection, demand: Demand) -> None:
    _next_edition(connection, demand.campaign_id)


@event.listens_for(DemandEntry, "after_insert")
@event.listens_for(DemandEntry, "after_update")
@event.listens_for(DemandEntry, "after_delete")
def _demand_entry_changed(mapper, connection, entry: DemandEntry) -> None:
    demand = Demand.__table__
    connection.execute(update(Campaign.__table__).where(
        Campaign.__table__.c.id == select(demand.c.campaign_id).where(demand.c.id == entry.demand_id)
        .scalar_subquery()).values(edition=Campaign.__table__.c.edition + 1))
