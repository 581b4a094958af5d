""""Manage my data": a supporter sees, downloads, changes, withdraws and
erases what the site holds about their mailbox, without asking anyone.

Whoever holds a working link (see privacy_mail: emailed only to a mailbox
we hold something for, at most once per PRIVACY_LINK_MINUTES) is the
mailbox's owner for PRIVACY_LINK_HOURS. A mailbox is the canonical form of
an address (identity.normalise_email), so the data is every signature of
every address variant, and the business pledges with that contact address.

- **Reading and downloading** show each signature (the campaign, the name,
  country, postcode, answers with their questions, pledge date and reason,
  the consents and the wording agreed to, the status and its dates), the
  business pledges, and (in the download) the emails we sent about them:
  kind, dates and status, never a body.
- **Changing consents** (updates, the first name on the public list, a
  freeze's reminders, a reason shown on the page) is a guarded UPDATE of
  one signature; the public list of signers is read on each request
  (page_reads), so a hidden name leaves it within seconds; a change to an
  approved reason raises the campaign's edition, whose pages show it.
- **Withdrawing** a signature moves it to ``withdrawn`` and its count with
  it, in one transaction (a guarded UPDATE: a double click withdraws
  once); its queued emails are dropped, and its address may sign again.
- **Erasing** anonymises every signature of the mailbox in place exactly as
  the retention sweep does (so each still counts, unless withdrawn),
  clears business pledges' contact address (its domain too, unless it is
  the website's) and network address hash, and every email and record
  that holds the address or names the signer, forgets the mailbox's
  allowances, links and stop-all entry, and keeps only its hash among the
  erased mailboxes, to which no email is sent again
  (mailboxes.suppressed), but the one note that says it was done. The
  organisers' other tools are told: each signature once confirmed (the
  API and the webhooks may have passed it on) sends ``signature.erased``,
  anonymised, to the campaign's endpoints that take it.

Each action is recorded as a PrivacyEvent with the mailbox's hash only;
erasing also drops from those records which campaigns they were about, so
that the hash of an address leads to no campaign."""
from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, null, or_, select, update

from . import businesses as business_pledges
from . import counts, privacy_mail, retention, webhooks
from .extensions import db, dialect_insert
from .identity import mailbox_hash, normalise_email
from .models import (
    LIVE_STATUSES,
    Business,
    Campaign,
    ConsentVersion,
    ErasedMailbox,
    Invalidation,
    Kind,
    MailboxAllowance,
    OutboxMessage,
    OutboxStatus,
    PrivacyEvent,
    PrivacyLink,
    ReasonStatus,
    Signature,
    SignatureStatus,
    SignQuestion,
    Suppression,
    utcnow,
)

# What PrivacyEvent.action says.
LINK_REQUESTED, VIEWED, DOWNLOADED, CONSENT_CHANGED, WITHDRAWN, ERASED = (
    "link_requested", "viewed", "downloaded", "consent_changed", "withdrawn", "erased")


class LinkRefusal(enum.StrEnum):
    FORGED = "forged"    # not a link of ours (or made for something else)
    EXPIRED = "expired"  # ours, but older than PRIVACY_LINK_HOURS, or forgotten since


@dataclass(frozen=True)
class OpenLink:
    id: int
    mailbox: str


def open_link(token: str) -> OpenLink | LinkRefusal:
    """The mailbox a link opens, or why it opens nothing. Its age is the
    row's (the token's own date is checked too): the sweep forgets a link
    once it is too old, and erasing forgets the mailbox's links at once."""
    try:
        link_id = privacy_mail.link_id_of(token)
    except privacy_mail.LinkExpired:
        return LinkRefusal.EXPIRED
    if link_id is None:
        return LinkRefusal.FORGED
    row = db.session.execute(select(PrivacyLink.id, PrivacyLink.mailbox, PrivacyLink.created_at)
                             .where(PrivacyLink.id == link_id)).one_or_none()
    hours = current_app.config["PRIVACY_LINK_HOURS"]
    if row is None or row.created_at <= privacy_mail.clock() - dt.timedelta(hours=hours):
        return LinkRefusal.EXPIRED
    return OpenLink(row.id, row.mailbox)


def ask_for_link(address: str) -> None:
    """Someone asked for a link for ``address``: queued, whatever the
    address, for the worker to decide (see privacy_mail)."""
    privacy_mail.queue_link_request(address)
    db.session.commit()


# --- What we hold ----------------------------------------------------------------------

# The consents a signature may have agreed to (see consents), as the
# supporter reads them; a question's text is the question itself.
_CONSENT_NAMES = {
    "pledge": _l("The pledge"),
    "reason_public": _l("Showing your reason on the page"),
    "reminder_opt_in": _l("Reminder emails"),
    "email_opt_in": _l("Updates by email"),
    "show_name": _l("Your first name on the public list"),
}
_QUESTION = "question:"


def consent_name(key: str) -> str:
    """What a consent text's key (see consents) stands for, for the signer."""
    if key.startswith(_QUESTION):
        return str(_l("A question on the form"))
    return str(_CONSENT_NAMES.get(key, key))


@dataclass(frozen=True)
class SignedPledge:
    """One signature, as its signer sees it."""
    id: int
    campaign_id: int
    campaign_title: str
    campaign_slug: str
    campaign_kind: str
    campaign_status: str
    status: str
    given_name: str
    family_name: str
    email: str
    country: str
    postal_code: str | None
    answers: tuple[tuple[str, str], ...]   # (the question, the answer)
    date_question: str | None
    pledge_date: dt.date | None
    reason: str | None
    reason_public: bool
    reason_status: str | None
    email_opt_in: bool
    show_name: bool
    reminder_opt_in: bool
    time_zone: str | None
    took_part: bool | None
    source: str | None
    medium: str | None
    source_campaign: str | None
    referral_code: str | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    unsubscribed_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    consent_version: int | None
    consents: tuple[tuple[str, str], ...]  # (what it is, the text agreed to)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def is_freeze(self) -> bool:
        return self.campaign_kind == Kind.FREEZE

    @property
    def can_withdraw(self) -> bool:
        """Live, or invalidated by the organisers (withdrawn, an undo cannot bring it back)."""
        return self.is_live or self.status == SignatureStatus.INVALIDATED

    @property
    def reason_shown(self) -> bool:
        return bool(self.reason and self.reason_public)


@dataclass(frozen=True)
class BusinessPledge:
    """A business pledge made with the mailbox as its contact address."""
    id: int
    campaign_id: int
    campaign_title: str
    organisation: str
    website: str
    contact_email: str
    company_size: str
    status: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    decided_at: dt.datetime | None
    pause_start: dt.date | None
    pause_end: dt.date | None
    resumed_on: dt.date | None


@dataclass(frozen=True)
class SentEmail:
    """An email we sent (or meant to) about the mailbox's data: never its body."""
    kind: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str


@dataclass(frozen=True)
class MyData:
    mailbox: str
    addresses: tuple[str, ...]
    signatures: tuple[SignedPledge, ...]
    businesses: tuple[BusinessPledge, ...]
    stopped_all_email: bool
    emails: tuple[SentEmail, ...] = ()
    read_at: dt.datetime = field(default_factory=utcnow)

    @property
    def holds_anything(self) -> bool:
        return bool(self.signatures or self.businesses)


def _signatures(mailbox: str) -> list[SignedPledge]:
    rows = db.session.execute(
        select(Signature, Campaign.title, Campaign.slug, Campaign.kind, Campaign.status.label("campaign_status"),
               Campaign.asks_date, Campaign.date_question)
        .join(Campaign, Campaign.id == Signature.campaign_id)
        .where(Signature.email_normalised == mailbox, Signature.anonymised_at.is_(None))
        .order_by(Signature.created_at, Signature.id)).all()
    if not rows:
        return []
    campaign_ids = {row.Signature.campaign_id for row in rows}
    labels = {str(question_id): label for question_id, label in db.session.execute(
        select(SignQuestion.id, SignQuestion.label).where(SignQuestion.campaign_id.in_(campaign_ids)))}
    version_ids = {row.Signature.consent_version_id for row in rows if row.Signature.consent_version_id}
    versions = {version.id: version for version in db.session.execute(
        select(ConsentVersion).where(ConsentVersion.id.in_(version_ids))).scalars()} if version_ids else {}
    found = []
    for row in rows:
        signature = row.Signature
        version = versions.get(signature.consent_version_id)
        found.append(SignedPledge(
            id=signature.id, campaign_id=signature.campaign_id, campaign_title=row.title, campaign_slug=row.slug,
            campaign_kind=row.kind, campaign_status=row.campaign_status, status=signature.status,
            given_name=signature.given_name, family_name=signature.family_name, email=signature.email,
            country=signature.country, postal_code=signature.postal_code,
            answers=tuple((labels.get(key, str(_l("A question no longer on the form"))), str(answer))
                          for key, answer in (signature.answers or {}).items()),
            date_question=(row.date_question or str(_l("The date I will start"))) if row.asks_date else None,
            pledge_date=signature.pledge_date, reason=signature.reason, reason_public=signature.reason_public,
            reason_status=signature.reason_status, email_opt_in=signature.email_opt_in,
            show_name=signature.show_name, reminder_opt_in=signature.reminder_opt_in,
            time_zone=signature.time_zone, took_part=signature.took_part, source=signature.source,
            medium=signature.medium, source_campaign=signature.source_campaign,
            referral_code=signature.referral_code, created_at=signature.created_at,
            confirmed_at=signature.confirmed_at, unsubscribed_at=signature.unsubscribed_at,
            withdrawn_at=signature.withdrawn_at, checked_in_at=signature.checked_in_at,
            consent_version=version.number if version else None,
            consents=tuple((consent_name(key), text) for key, text in (version.texts or {}).items())
            if version else ()))
    return found


def _business_rows(mailbox: str) -> list[Business]:
    """The business pledges whose contact address is the mailbox's: found
    by domain, then checked address by address (no canonical form is kept)."""
    candidates = db.session.execute(
        select(Business).where(privacy_mail.may_be_of_mailbox(Business.contact_email, mailbox))
        .order_by(Business.created_at, Business.id)).scalars()
    return [business for business in candidates if normalise_email(business.contact_email) == mailbox]


def _businesses(mailbox: str) -> list[BusinessPledge]:
    return [BusinessPledge(
        id=b.id, campaign_id=b.campaign_id, campaign_title=b.campaign.title, organisation=b.organisation,
        website=b.website, contact_email=b.contact_email, company_size=b.company_size, status=b.status,
        created_at=b.created_at, confirmed_at=b.confirmed_at, decided_at=b.decided_at, pause_start=b.pause_start,
        pause_end=b.pause_end, resumed_on=b.resumed_on) for b in _business_rows(mailbox)]


def data_of(mailbox: str) -> MyData:
    """Everything we hold about ``mailbox``, as its page shows it."""
    signatures = _signatures(mailbox)
    businesses = _businesses(mailbox)
    addresses = list(dict.fromkeys([s.email for s in reversed(signatures)] + [b.contact_email for b in businesses]))
    return MyData(mailbox, tuple(addresses), tuple(signatures), tuple(businesses),
                  db.session.get(Suppression, mailbox) is not None)


def _emails(mailbox: str, signature_ids: set[int], business_ids: set[int]) -> list[SentEmail]:
    table = OutboxMessage.__table__
    conditions = [privacy_mail.may_be_of_mailbox(table.c.recipient, mailbox)]
    if signature_ids:
        conditions.append(table.c.signature_id.in_(signature_ids))
    if business_ids:
        conditions.append(table.c.business_id.in_(business_ids))
    rows = db.session.execute(
        select(table.c.kind, table.c.created_at, table.c.sent_at, table.c.status, table.c.recipient,
               table.c.signature_id, table.c.business_id)
        .where(or_(*conditions)).order_by(table.c.created_at, table.c.id)).all()
    return [SentEmail(row.kind, row.created_at, row.sent_at, row.status) for row in rows
            if row.signature_id in signature_ids or row.business_id in business_ids
            or (row.recipient and normalise_email(row.recipient) == mailbox)]


def viewed(mailbox: str) -> MyData:
    """What the page shows; the view is recorded."""
    data = data_of(mailbox)
    privacy_mail.record(VIEWED, mailbox)
    db.session.commit()
    return data


def download(mailbox: str, what: str) -> MyData:
    """Everything, with the emails we sent; the download (``what``: its
    format) is recorded."""
    data = data_of(mailbox)
    emails = _emails(mailbox, {s.id for s in data.signatures}, {b.id for b in data.businesses})
    privacy_mail.record(DOWNLOADED, mailbox, detail={"format": what})
    db.session.commit()
    return MyData(data.mailbox, data.addresses, data.signatures, data.businesses, data.stopped_all_email,
                  tuple(emails), data.read_at)


def _when(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def as_json(data: MyData) -> dict:
    """The download as JSON: plain values, times in UTC (ISO 8601)."""
    return {
        "exported_at": _when(data.read_at),
        "times": "UTC",
        "email_addresses": list(data.addresses),
        "stopped_all_email": data.stopped_all_email,
        "signatures": [{
            "campaign": {"title": s.campaign_title, "address": s.campaign_slug, "kind": s.campaign_kind},
            "status": s.status,
            "first_name": s.given_name, "last_name": s.family_name, "email": s.email,
            "country": s.country, "postcode": s.postal_code,
            "answers": [{"question": question, "answer": answer} for question, answer in s.answers],
            "pledge_date": {"question": s.date_question, "date": _when(s.pledge_date)} if s.date_question else None,
            "reason": {"text": s.reason, "show_on_page": s.reason_public, "review": s.reason_status}
            if s.reason else None,
            "consents": {"updates_by_email": s.email_opt_in, "first_name_on_public_list": s.show_name,
                         "reminder_emails": s.reminder_opt_in},
            "consent_version": s.consent_version,
            "consent_texts": [{"consent": name, "text": text} for name, text in s.consents],
            "time_zone": s.time_zone, "took_part": s.took_part,
            "came_from": {"source": s.source, "medium": s.medium, "campaign": s.source_campaign},
            "share_code": s.referral_code,
            "signed_at": _when(s.created_at), "confirmed_at": _when(s.confirmed_at),
            "updates_stopped_at": _when(s.unsubscribed_at), "withdrawn_at": _when(s.withdrawn_at),
            "answered_took_part_at": _when(s.checked_in_at),
        } for s in data.signatures],
        "business_pledges": [{
            "campaign": b.campaign_title, "organisation": b.organisation, "website": b.website,
            "contact_email": b.contact_email, "company_size": b.company_size, "status": b.status,
            "pledged_at": _when(b.created_at), "confirmed_at": _when(b.confirmed_at),
            "decided_at": _when(b.decided_at), "pause_start": _when(b.pause_start),
            "pause_end": _when(b.pause_end), "resumed_on": _when(b.resumed_on),
        } for b in data.businesses],
        "emails": [{"kind": e.kind, "created_at": _when(e.created_at), "sent_at": _when(e.sent_at),
                    "status": e.status} for e in data.emails],
    }


def as_json_bytes(data: MyData) -> bytes:
    """The JSON file, UTF-8, indented for people to read."""
    return json.dumps(as_json(data), ensure_ascii=False, indent=2).encode()


# --- Changing consents -----------------------------------------------------------------

def _mine(mailbox: str, signature_id: int) -> tuple:
    return (Signature.id == signature_id, Signature.email_normalised == mailbox,
            Signature.anonymised_at.is_(None))


_IN_A_FREEZE = exists().where(Campaign.id == Signature.campaign_id, Campaign.kind == Kind.FREEZE.value)

# Each change: the condition under which it changes anything, and what it sets.
CHANGES = {
    "stop_updates": (Signature.unsubscribed_at.is_(None), lambda now: {"unsubscribed_at": now}),
    # Only a signer who opted in to updates gets them back.
    "resume_updates": (Signature.unsubscribed_at.is_not(None) & Signature.email_opt_in.is_(True),
                       lambda now: {"unsubscribed_at": None}),
    "hide_name": (Signature.show_name.is_(True), lambda now: {"show_name": False}),
    "show_name": (Signature.show_name.is_(False), lambda now: {"show_name": True}),
    "stop_reminders": (Signature.reminder_opt_in.is_(True) & _IN_A_FREEZE, lambda now: {"reminder_opt_in": False}),
    "send_reminders": (Signature.reminder_opt_in.is_(False) & _IN_A_FREEZE, lambda now: {"reminder_opt_in": True}),
    # Off the page at once; showing it again would need the organisers' review.
    "hide_reason": (Signature.reason_public.is_(True), lambda now: {"reason_public": False}),
}


def _shows_a_reason(row, hiding_it: bool = False) -> bool:
    """Whether the campaign page showed this signature's reason (and so its
    first name, if shown, beside it): a page built per edition."""
    return (row.status == SignatureStatus.CONFIRMED and row.reason_status == ReasonStatus.APPROVED
            and (row.reason_public or hiding_it))


def _next_edition(campaign_id: int) -> None:
    table = Campaign.__table__
    db.session.execute(update(table).where(table.c.id == campaign_id).values(edition=table.c.edition + 1))


def change_consent(mailbox: str, signature_id: int, change: str) -> bool:
    """Make one change (see CHANGES) to one of the mailbox's live
    signatures; False if it changes nothing (already so, not theirs, not
    live, or not one the signature may make)."""
    condition, values = CHANGES[change]
    table = Signature.__table__
    row = db.session.execute(
        update(table).where(*_mine(mailbox, signature_id), table.c.status.in_(LIVE_STATUSES), condition)
        .values(values(utcnow()))
        .returning(table.c.campaign_id, table.c.status, table.c.reason_public, table.c.reason_status)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        db.session.rollback()
        return False
    if change in ("hide_name", "show_name", "hide_reason") and _shows_a_reason(row, change == "hide_reason"):
        _next_edition(row.campaign_id)
    if change == "stop_updates":
        webhooks.queue_event(webhooks.SUPPORTER_UNSUBSCRIBED, row.campaign_id, signature_id=signature_id)
    privacy_mail.record(CONSENT_CHANGED, mailbox, row.campaign_id, {"change": change})
    db.session.commit()
    return True


# --- Withdrawing ---------------------------------------------------------------------

_WITHDRAWABLE = (SignatureStatus.CONFIRMED, SignatureStatus.PENDING, SignatureStatus.INVALIDATED)


def withdraw(mailbox: str, signature_id: int) -> bool:
    """Take back one of the mailbox's signatures: off the count at once, its
    queued emails dropped, its address free to sign again. A guarded
    UPDATE per status it may have, so that two presses withdraw it once and
    its count moves from the status it really had; False if nothing was
    withdrawn."""
    table = Signature.__table__
    now = utcnow()
    for was in _WITHDRAWABLE:
        row = db.session.execute(
            update(table).where(*_mine(mailbox, signature_id), table.c.status == was.value)
            .values(status=SignatureStatus.WITHDRAWN.value, withdrawn_at=now)
            .returning(table.c.campaign_id, table.c.confirmed_at, table.c.country, table.c.email_opt_in,
                       table.c.reason_public, table.c.reason_status)
            .execution_options(synchronize_session=False)).first()
        if row is not None:
            break
    else:
        db.session.rollback()
        return False
    counts.count_transition(row.campaign_id, row.email_opt_in, was, SignatureStatus.WITHDRAWN,
                            day=row.confirmed_at.date() if row.confirmed_at else None, country=row.country)
    outbox_table = OutboxMessage.__table__
    db.session.execute(
        update(outbox_table).where(outbox_table.c.signature_id == signature_id,
                                   outbox_table.c.status == OutboxStatus.QUEUED.value,
                                   # Webhook events already queued still go: they happened.
                                   outbox_table.c.webhook_endpoint_id.is_(None))
        .values(status=OutboxStatus.SKIPPED.value, last_error="signature withdrawn", recipient="", subject="",
                body_text="", body_html=null(), headers=null())
        .execution_options(synchronize_session=False))
    if was == SignatureStatus.CONFIRMED and row.reason_public and row.reason_status == ReasonStatus.APPROVED:
        _next_edition(row.campaign_id)
    webhooks.queue_event(webhooks.SIGNATURE_WITHDRAWN, row.campaign_id, signature_id=signature_id)
    privacy_mail.record(WITHDRAWN, mailbox, row.campaign_id)
    db.session.commit()
    return True


# --- Erasing -------------------------------------------------------------------------

@dataclass(frozen=True)
class Erasure:
    signatures: int        # anonymised in place
    business_pledges: int  # contact address cleared
    note_queued: bool      # the last email, saying so


def _invalidations_naming(needles: set[str], batches: set[int]) -> list[Invalidation]:
    """The organisers' invalidations that chose one of these signatures, or
    whose search or reason mentions the mailbox's address or names."""
    found = []
    for batch in db.session.execute(select(Invalidation)).scalars():
        said = (json.dumps(batch.criteria or {}, ensure_ascii=False) + " " + (batch.reason or "")).lower()
        email = (batch.criteria or {}).get("email")
        if (batch.id in batches or any(needle in said for needle in needles)
                or (isinstance(email, str) and "@" in email and normalise_email(email) in needles)):
            found.append(batch)
    return found


def _scrub(batch: Invalidation) -> None:
    """As the sweep leaves an anonymised campaign's invalidations: what was
    searched by, never for what; no reason."""
    criteria = batch.criteria or {}
    searched = sorted(criteria.get("searched_by") or criteria)
    batch.criteria = {"searched_by": searched} if searched else None
    batch.reason = ""


def _cleared_domain(business: Business) -> str:
    """Empty, unless another entry of the same name on the campaign has an
    empty one (one entry per name and domain): then a marker of its own."""
    taken = db.session.execute(select(exists().where(
        Business.campaign_id == business.campaign_id, Business.organisation_key == business.organisation_key,
        Business.contact_domain == "", Business.id != business.id))).scalar()
    return f"erased-{business.id}" if taken else ""


def erase(mailbox: str) -> Erasure:
    """Erase everything the mailbox's owner gave us (see the module
    docstring), in one transaction, and queue the one email that says so."""
    now = utcnow()
    held = privacy_mail.held_addresses({mailbox}).get(mailbox, [])
    table = Signature.__table__
    before = db.session.execute(
        select(table.c.id, table.c.campaign_id, table.c.status, table.c.reason_public, table.c.reason_status,
               table.c.invalidation_id, table.c.given_name, table.c.family_name, table.c.email,
               table.c.postal_code, table.c.confirmed_at)
        .where(table.c.email_normalised == mailbox, table.c.anonymised_at.is_(None))).all()
    anonymised = db.session.execute(
        update(table).where(table.c.email_normalised == mailbox, table.c.anonymised_at.is_(None))
        .values(retention.anonymous(now)).returning(table.c.id)
        .execution_options(synchronize_session=False)).scalars().all()
    if anonymised:
        retention.clear_messages_of(anonymised, "erased")
    # Those the organisers' other tools may hold (every signature once
    # confirmed went to the API and the webhooks): they are told to erase
    # it too, and sent it anonymised.
    told: dict[int, list[int]] = {}
    for row in before:
        if row.id in anonymised and row.confirmed_at is not None:
            told.setdefault(row.campaign_id, []).append(row.id)
    for campaign_id, ids in told.items():
        webhooks.queue_signature_events(webhooks.SIGNATURE_ERASED, campaign_id, ids)
    for campaign_id in {row.campaign_id for row in before if row.id in anonymised and _shows_a_reason(row)}:
        _next_edition(campaign_id)

    needles = {mailbox, *(address.lower() for address in held)}
    for row in before:
        needles |= {value.strip().lower() for value in (row.email, row.given_name, row.family_name, row.postal_code)
                    if value and len(value.strip()) > 1}
    for batch in _invalidations_naming(needles, {row.invalidation_id for row in before if row.invalidation_id}):
        _scrub(batch)

    businesses = _business_rows(mailbox)
    for business in businesses:
        business.contact_email, business.ip_hash = "", None
        if not business_pledges.contact_matches_website(business.contact_domain,
                                                        business_pledges.website_domain(business.website)):
            # Not the business's own domain: a part of the person's address.
            business.contact_domain = _cleared_domain(business)
    outbox_table = OutboxMessage.__table__
    addressed = [row.id for row in db.session.execute(
        select(outbox_table.c.id, outbox_table.c.recipient)
        .where(privacy_mail.may_be_of_mailbox(outbox_table.c.recipient, mailbox)))
        if normalise_email(row.recipient) == mailbox]
    if addressed:
        db.session.execute(delete(outbox_table).where(outbox_table.c.id.in_(addressed))
                           .execution_options(synchronize_session=False))
    for model, column in ((MailboxAllowance, MailboxAllowance.mailbox), (PrivacyLink, PrivacyLink.mailbox),
                          (Suppression, Suppression.email_normalised)):
        db.session.execute(delete(model).where(column == mailbox).execution_options(synchronize_session=False))
    hashed = mailbox_hash(mailbox)
    newly = db.session.execute(
        dialect_insert(ErasedMailbox).values(mailbox_hash=hashed, erased_at=now)
        .on_conflict_do_nothing(index_elements=["mailbox_hash"]).returning(ErasedMailbox.mailbox_hash)).scalar()
    # What the mailbox did stays on record, but no longer which campaigns.
    db.session.execute(update(PrivacyEvent).where(PrivacyEvent.mailbox_hash == hashed).values(campaign_id=None)
                       .execution_options(synchronize_session=False))
    note = privacy_mail.queue_erased_note(held[0] if held else mailbox, len(anonymised), len(businesses), now) \
        if newly else None
    privacy_mail.record(ERASED, mailbox, detail={"signatures": len(anonymised), "business_pledges": len(businesses),
                                                 "note": note})
    db.session.commit()
    return Erasure(len(anonymised), len(businesses), note is not None)
