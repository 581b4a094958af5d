"""The emails of "Manage my data" (see my_data): the link that opens a
mailbox's data, and the note that its data was erased.

**The link.** Anyone can type any address into the form, so the form only
queues a row naming the address typed, the same for every address, known
or not: the page cannot tell, and neither can its timing. Whether a link
goes out is decided here, when the worker sends it:

- only to a mailbox we hold something for (a signature not anonymised, a
  business pledge's contact address), and never to one whose owner erased
  their data. A request for any other address is forgotten at once: its
  row loses the address and is skipped;
- to an address we hold for that mailbox (the one typed if we hold it
  exactly, else the latest one it used), never simply to what was typed:
  the canonical mailbox drops a ``+tag`` whatever the domain, and a domain
  that reads ``+`` otherwise must not receive someone else's data;
- at most once per PRIVACY_LINK_MINUTES per canonical mailbox, and counted
  against the mailbox's allowance of emails it did not ask for (``capped``):
  a stranger asking again and again sends the owner a link now and then,
  never a flood, and the owner can always get one within minutes (or
  already has one that works). It still reaches a mailbox that stopped all
  email (``suppressible=False``): the owner asked for their own data.

The link carries the id of a ``PrivacyLink`` row made when the email is
rendered, signed and dated with a salt of its own; the row names the
canonical mailbox, so the address is never in the URL. It opens the data
for PRIVACY_LINK_HOURS (see my_data.open_link).

**The erased note** is rendered when it is queued, by the erasure itself,
and stored: it holds nothing but the fact and a count. It is the last
email the mailbox gets, sent although the mailbox is erased (not
suppressible, not capped); once it is sent (or given up), its row is
emptied by a producer here, so not even the address stays behind."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, insert, null, or_, select, update

from . import outbox
from .extensions import db
from .identity import mailbox_hash, normalise_email
from .links import absolute_url
from .locales import LANGUAGES, default_language, page_language
from .mail_merge import render_email, single_email
from .models import (
    Business,
    ErasedMailbox,
    OutboxMessage,
    OutboxStatus,
    PrivacyEvent,
    PrivacyLink,
    Signature,
    utcnow,
)

MY_DATA_LINK = "my_data_link"
MY_DATA_ERASED = "my_data_erased"
# Each purpose of a signed token has its own salt (see tokens).
LINK_SALT = "my-data-link"
# The providers whose addresses are one mailbox whatever the dots (see identity).
_GMAIL = ("gmail.com", "googlemail.com")


def clock() -> dt.datetime:
    """Now, naive UTC: when links are made and how old they are (tests set it)."""
    return utcnow()


# --- Which addresses are a mailbox's ---------------------------------------------------

def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def may_be_of_mailbox(column, mailbox: str):
    """A condition on a column of addresses (as people typed them) that
    holds for every address of the canonical ``mailbox`` (case, a ``+tag``,
    Gmail's dots) and rarely for another: callers check each row found with
    ``identity.normalise_email``. For the tables that keep no canonical
    form of an address (outbox recipients, business contacts)."""
    local, _, domain = mailbox.rpartition("@")
    folded = func.lower(column)
    if domain not in _GMAIL:
        return or_(folded == mailbox, folded.like(f"{_like_escaped(local)}+%@{_like_escaped(domain)}", escape="\\"))
    undotted = func.replace(folded, ".", "")
    conditions = []
    for name in _GMAIL:
        at = "@" + name.replace(".", "")
        conditions += [undotted == local + at, undotted.like(f"{_like_escaped(local)}+%{at}", escape="\\")]
    return or_(*conditions)


def _domains(mailbox: str) -> tuple[str, ...]:
    domain = mailbox.rpartition("@")[2]
    return _GMAIL if domain in _GMAIL else (domain,)


def held_addresses(mailboxes: set[str]) -> dict[str, list[str]]:
    """For each of ``mailboxes`` (canonical) that we hold something for:
    the addresses it used, as typed, the latest first. A signature
    anonymised, or a business contact cleared, holds none."""
    if not mailboxes:
        return {}
    found: list[tuple[dt.datetime, str, str]] = list(db.session.execute(
        select(Signature.created_at, Signature.email_normalised, Signature.email)
        .where(Signature.email_normalised.in_(mailboxes), Signature.anonymised_at.is_(None))).all())
    domains = {domain for mailbox in mailboxes for domain in _domains(mailbox)}
    for created_at, contact in db.session.execute(
            select(Business.created_at, Business.contact_email)
            .where(Business.contact_domain.in_(domains), Business.contact_email != "")).all():
        mailbox = normalise_email(contact)
        if mailbox in mailboxes:
            found.append((created_at, mailbox, contact.strip()))
    held: dict[str, list[str]] = {}
    for _, mailbox, address in sorted(found, key=lambda row: row[0], reverse=True):
        if address and address not in held.setdefault(mailbox, []):
            held[mailbox].append(address)
    return {mailbox: addresses for mailbox, addresses in held.items() if addresses}


def erased(mailboxes: set[str]) -> set[str]:
    """Those of ``mailboxes`` whose owner erased their data."""
    hashes = {mailbox_hash(mailbox): mailbox for mailbox in mailboxes}
    if not hashes:
        return set()
    return {hashes[found] for found in db.session.execute(
        select(ErasedMailbox.mailbox_hash).where(ErasedMailbox.mailbox_hash.in_(hashes))).scalars()}


def record(action: str, mailbox: str, campaign_id: int | None = None, detail: dict | None = None) -> None:
    """A PrivacyEvent, in the caller's transaction: what a supporter did
    with their data, and when; the mailbox only as its hash."""
    db.session.execute(insert(PrivacyEvent).values(action=action, mailbox_hash=mailbox_hash(mailbox),
                                                   campaign_id=campaign_id, detail=detail, created_at=utcnow()))


# --- The link -------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


class LinkExpired(Exception):
    """A genuine link, made longer ago than PRIVACY_LINK_HOURS."""


def link_id_of(token: str) -> int | None:
    """The PrivacyLink id a link's token names; None if it is forged or
    made for another purpose; LinkExpired if it is too old."""
    try:
        link_id = _serializer().loads(token, max_age=current_app.config["PRIVACY_LINK_HOURS"] * 3600)
    except SignatureExpired as exc:
        raise LinkExpired from exc
    except BadSignature:
        return None
    if not isinstance(link_id, int) or isinstance(link_id, bool):
        return None
    return link_id


def link_token(link_id: int) -> str:
    """The token of the link that opens PrivacyLink ``link_id``."""
    return _serializer().dumps(link_id)


def link_url(link_id: int, language: str | None = None) -> str:
    """The absolute link, for the email, to the page in ``language``."""
    return absolute_url("public.my_data_page", language=language, token=link_token(link_id))


def _asked_in() -> str:
    """The language of the page a request was made on: its email is
    written in it."""
    language = page_language()
    return language if language in LANGUAGES else default_language()


def queue_link_request(address: str) -> None:
    """Someone asked for a link for ``address``: the same one row whatever
    the address (see the module docstring), which says (as its
    Content-Language header) the language of the page it was asked on. In
    the caller's transaction."""
    outbox.enqueue(MY_DATA_LINK, address, headers={"Content-Language": _asked_in()})


def _language_of_row(row: outbox.Delivery) -> str:
    language = (row.headers or {}).get("Content-Language")
    return language if language in LANGUAGES else default_language()


@dataclass
class _LinkBatch:
    held: dict[str, list[str]]
    erased: set[str]
    # Mailboxes sent a link within PRIVACY_LINK_MINUTES, this batch's included.
    recent: set[str] = field(default_factory=set)


def _load_links(rows: list[outbox.Delivery]) -> _LinkBatch:
    mailboxes = {normalise_email(row.recipient) for row in rows if row.recipient}
    batch = _LinkBatch(held_addresses(mailboxes), erased(mailboxes))
    since = clock() - dt.timedelta(minutes=current_app.config["PRIVACY_LINK_MINUTES"])
    if mailboxes:
        batch.recent = set(db.session.execute(
            select(PrivacyLink.mailbox).where(PrivacyLink.created_at > since,
                                              PrivacyLink.mailbox.in_(mailboxes))).scalars())
    # A request for a mailbox we hold nothing for (or an erased one) is
    # forgotten now: its row is skipped without the address anyone typed.
    unwanted = [row.id for row in rows
                if not row.recipient or _mailbox(row) in batch.erased or _mailbox(row) not in batch.held]
    if unwanted:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(unwanted)).values(recipient="")
                           .execution_options(synchronize_session=False))
    return batch


def _mailbox(row: outbox.Delivery) -> str:
    return normalise_email(row.recipient)


def _link_still_wanted(batch: _LinkBatch, row: outbox.Delivery) -> str | None:
    if not row.recipient:
        return "no address"
    mailbox = _mailbox(row)
    if mailbox in batch.erased:
        return "mailbox erased"
    if mailbox not in batch.held:
        return "nothing held for this mailbox"
    # A retry (after a failure to send) was granted its turn already.
    if row.attempts == 0:
        if mailbox in batch.recent:
            return "a link was sent to this mailbox within minutes"
        batch.recent.add(mailbox)
    return None


def _render_link(batch: _LinkBatch, row: outbox.Delivery):
    mailbox = _mailbox(row)
    addresses = batch.held[mailbox]
    typed = row.recipient.strip().lower()
    address = next((held for held in addresses if held.lower() == typed), addresses[0])
    link_id = db.session.execute(insert(PrivacyLink).values(mailbox=mailbox, created_at=clock())
                                 .returning(PrivacyLink.id)).scalar_one()
    record("link_requested", mailbox)
    config = current_app.config
    language = _language_of_row(row)
    subject, text, html = render_email("my_data_link", {
        "link": link_url(link_id, language), "hours": config["PRIVACY_LINK_HOURS"]}, language=language)
    return single_email(address, subject, text, html, {"Content-Language": language})


outbox.register_kind(outbox.MessageKind(MY_DATA_LINK, load=_load_links, still_wanted=_link_still_wanted,
                                        render=_render_link, suppressible=False, capped=True))


# --- The erased note -------------------------------------------------------------------

def queue_erased_note(address: str, signatures: int, business_pledges: int, erased_at: dt.datetime) -> int:
    """Queue the last email to an erased mailbox, in the language of the
    page it was erased on; its outbox row's id. In the caller's
    transaction."""
    language = _asked_in()
    subject, text, html = render_email("my_data_erased", {
        "signatures": signatures, "business_pledges": business_pledges, "erased_at": erased_at},
        language=language)
    return db.session.execute(
        outbox.queue_from(MY_DATA_ERASED, address, at=utcnow(), subject=subject, body_text=text, body_html=html,
                          headers={"Content-Language": language})
        .returning(OutboxMessage.id)).scalar_one()


def _as_stored(batch, row: outbox.Delivery):
    return single_email(row.recipient, row.subject, row.body_text, row.body_html, row.headers)


outbox.register_kind(outbox.MessageKind(MY_DATA_ERASED, load=lambda rows: None,
                                        still_wanted=lambda batch, row: None, render=_as_stored,
                                        suppressible=False))

# The erasures whose notes are still looked after: a note is sent, or
# given up after its last retry, well within this; anything left is
# emptied by the retention sweep's age rule.
_NOTES_LOOKED_AFTER = dt.timedelta(days=2)
_FINISHED = (OutboxStatus.SENT.value, OutboxStatus.FAILED.value, OutboxStatus.SKIPPED.value)


def forget_erased_notes() -> bool:
    """Empty the rows of erased notes that are sent or given up: the
    address goes with them. Found through the recent erasures' records (a
    few rows, by time), not by reading the queue. True if any was."""
    since = utcnow() - _NOTES_LOOKED_AFTER
    notes = {detail["note"] for detail in db.session.execute(
        select(PrivacyEvent.detail).where(PrivacyEvent.created_at >= since, PrivacyEvent.action == "erased")
    ).scalars() if isinstance(detail, dict) and isinstance(detail.get("note"), int)}
    if not notes:
        db.session.rollback()
        return False
    emptied = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(notes), OutboxMessage.recipient != "",
                                    OutboxMessage.status.in_(_FINISHED))
        .values(recipient="", subject="", body_text="", body_html=null(), headers=null())
        .returning(OutboxMessage.id).execution_options(synchronize_session=False)).all()
    db.session.commit()
    return bool(emptied)


outbox.register_producer(forget_erased_notes)
