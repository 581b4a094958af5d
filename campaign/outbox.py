"""Durable email. ``enqueue`` writes a row in the caller's transaction; the
worker claims due rows, sends them over one SMTP connection per batch, and
records the result. SMTP being down delays mail; it never loses it."""
from __future__ import annotations

import datetime as dt
import email.policy
import logging
import random
import smtplib
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from . import tokens
from .extensions import db, on_postgresql
from .links import absolute_url
from .models import (
    CampaignUpdate,
    OutboxMessage,
    OutboxStatus,
    Signature,
    SignatureStatus,
    Suppression,
    UpdateStatus,
    utcnow,
)
from .subscriptions import unsubscribe_url
from .update_mail import UpdateMailMerge

log = logging.getLogger(__name__)


def render_email(template: str, context: dict) -> tuple[str, str, str]:
    """Subject, plain text and HTML of ``email/<template>.*``. The subject is
    one line: a newline from user data must never reach a header."""
    subject = render_template(f"email/{template}.subject.txt", **context)
    return (" ".join(subject.split()),
            render_template(f"email/{template}.txt", **context),
            render_template(f"email/{template}.html", **context))


def enqueue(
    *,
    kind: str,
    recipient: str,
    template: str,
    context: dict,
    signature_id: int | None = None,
    headers: dict | None = None,
) -> OutboxMessage:
    """Render ``email/<template>.{txt,html}`` and add it to the outbox in the
    current transaction; the caller commits."""
    subject, text, html = render_email(template, context)
    return enqueue_rendered(kind=kind, recipient=recipient, subject=subject, text=text, html=html,
                            signature_id=signature_id, headers=headers)


def enqueue_rendered(*, kind: str, recipient: str, subject: str, text: str, html: str | None,
                     signature_id: int | None = None, headers: dict | None = None) -> OutboxMessage:
    """Add an already rendered email to the outbox in the current transaction."""
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=" ".join(subject.split()),
        body_text=text,
        body_html=html,
        headers=headers,
        signature_id=signature_id,
    )
    db.session.add(message)
    return message


CONFIRMATION = "confirmation"
ALREADY_SIGNED = "already_signed"
_insert_message = insert(OutboxMessage.__table__)


def enqueue_signature_email(kind: str, signature_id: int, recipient: str) -> None:
    """Queue a signature's email of ``kind`` (see SIGNATURE_EMAILS) in the
    current transaction. It is rendered when it is sent, from the signature
    it names: signing writes one small row and renders nothing, and the
    email is not sent at all if the signature has moved on meanwhile
    (confirmed, invalidated or removed)."""
    db.session.connection().execute(
        _insert_message, {"kind": kind, "recipient": recipient, "signature_id": signature_id})


def _confirmation(signature: Signature) -> tuple[str, str, str]:
    campaign = signature.campaign
    return render_email("confirm_signature", {
        "signature": signature,
        "campaign": campaign,
        "confirm_url": absolute_url("public.confirm", token=tokens.token_for(tokens.CONFIRM, signature.id)),
        "campaign_url": absolute_url("public.campaign_page", slug=campaign.slug),
    })


def _already_signed(signature: Signature) -> tuple[str, str, str]:
    campaign = signature.campaign
    return render_email("already_signed", {
        "signature": signature,
        "campaign": campaign,
        "campaign_url": absolute_url("public.campaign_page", slug=campaign.slug),
    })


class _SignatureEmail(NamedTuple):
    render: Callable[[Signature], tuple[str, str, str]]
    status: str  # the status its signature must still have for it to go out


# The emails rendered when sent, by kind.
SIGNATURE_EMAILS = {
    CONFIRMATION: _SignatureEmail(_confirmation, SignatureStatus.PENDING),
    ALREADY_SIGNED: _SignatureEmail(_already_signed, SignatureStatus.CONFIRMED),
}
# Which of them a signature with this status is sent when its address signs again.
EMAIL_ON_SIGNING_AGAIN = {email.status: kind for kind, email in SIGNATURE_EMAILS.items()}


def _rendered_when_sent(row: OutboxMessage) -> bool:
    return row.kind in SIGNATURE_EMAILS and not row.body_text and row.update_id is None


# --- Worker -----------------------------------------------------------------

class _TimeoutConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a silent server
    cannot hang the worker."""

    def configure_host(self):
        timeout = current_app.config["MAIL_TIMEOUT"]
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        self._close()

    def _close(self) -> None:
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()

    def reopen(self) -> None:
        self._close()
        self.host = self.configure_host()


class _Temporary(Exception):
    """A failure worth retrying later (4xx, refused or dropped connection, timeout)."""


class _Permanent(Exception):
    """The server refused this message for good (5xx for the recipient)."""


class _ConnectionLost(_Temporary):
    """The server went away: stop this batch, retry its rest later."""


@dataclass
class BatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    fanned_out: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped


def claim_due_messages(limit: int, worker_id: str) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages to this worker and commit the lease."""
    now = utcnow()
    lease_until = now + dt.timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    due = or_(
        and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.due_at <= now),
        # A worker that died holding rows: its lease runs out, others take over.
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now),
    )
    candidates = select(OutboxMessage.id).where(due).order_by(OutboxMessage.due_at).limit(limit)
    if on_postgresql():
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(db.session.execute(candidates).scalars())
    if not ids:
        db.session.rollback()
        return []
    # The condition is checked again in the UPDATE, so two workers that saw
    # the same rows (SQLite has no SKIP LOCKED) cannot both take one.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due)
        .values(status=OutboxStatus.SENDING, lease_until=lease_until, claimed_by=worker_id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == worker_id,
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .order_by(OutboxMessage.id)
        ).scalars()
    )


class _Deliveries:
    """What a batch needs to render the messages rendered when sent, loaded
    once: updates and their signatures (and who has left since fan-out),
    and the signatures whose confirmation emails are due."""

    def __init__(self, rows: list[OutboxMessage]):
        update_ids = {r.update_id for r in rows if r.update_id}
        signature_ids = {r.signature_id for r in rows
                         if r.signature_id and (r.update_id or _rendered_when_sent(r))}
        self.updates = {u.id: u for u in db.session.execute(
            select(CampaignUpdate).where(CampaignUpdate.id.in_(update_ids))).scalars()} if update_ids else {}
        self.signatures = {s.id: s for s in db.session.execute(
            select(Signature).where(Signature.id.in_(signature_ids)).options(selectinload(Signature.campaign))
        ).scalars()} if signature_ids else {}
        addresses = {s.email_normalised for s in self.signatures.values()}
        self.suppressed = set(db.session.execute(
            select(Suppression.email_normalised).where(Suppression.email_normalised.in_(addresses))
        ).scalars()) if addresses else set()
        self._merges: dict[int, UpdateMailMerge] = {}

    def skip_reason(self, row: OutboxMessage) -> str | None:
        if _rendered_when_sent(row):
            signature = self.signatures.get(row.signature_id)
            if signature is None:
                return "signature removed"
            if signature.status != SIGNATURE_EMAILS[row.kind].status:
                return f"signature {signature.status}"
            return None
        if not row.update_id:
            return None
        update_row = self.updates.get(row.update_id)
        signature = self.signatures.get(row.signature_id)
        if update_row is None or update_row.status == UpdateStatus.CANCELLED:
            return "update cancelled"
        if signature is None or signature.unsubscribed_at is not None:
            return "unsubscribed"
        if signature.email_normalised in self.suppressed:
            return "stopped all email"
        if signature.status != SignatureStatus.CONFIRMED:
            return "signature no longer valid"
        return None

    def send(self, connection: _TimeoutConnection, row: OutboxMessage) -> str:
        """Send the row's email; returns its Message-ID."""
        if _rendered_when_sent(row):
            subject, text, html = SIGNATURE_EMAILS[row.kind].render(self.signatures[row.signature_id])
            message = _mail_message(row.recipient, subject, text, html, row.headers)
            connection.send(message)
            return message.msgId
        if not row.update_id:
            message = _mail_message(row.recipient, row.subject, row.body_text, row.body_html, row.headers)
            connection.send(message)
            return message.msgId
        merge = self._merges.get(row.update_id)
        if merge is None:
            merge = self._merges[row.update_id] = UpdateMailMerge(
                self.updates[row.update_id], current_app.config["MAIL_DEFAULT_SENDER"],
                urlsplit(current_app.config["SITE_URL"]).hostname or "localhost")
        signature = self.signatures[row.signature_id]
        message_id, raw = merge.message_bytes(row.recipient, signature.given_name, unsubscribe_url(signature.id))
        if connection.host is not None:
            connection.host.sendmail(merge.sender_address, [row.recipient], raw)
        return message_id


class _Message(Message):
    """Flask-Mail's message, serialised with the compat32 policy and CRLF line
    ends. Flask-Mail switches the finished message to the SMTP policy, which
    parses every header again while writing it out: about 2.5 times slower,
    for the same bytes apart from how long headers are folded."""

    def _message(self):
        message = super()._message()
        message.policy = _SMTP_COMPAT32
        return message


_SMTP_COMPAT32 = email.policy.compat32.clone(linesep="\r\n")


def _mail_message(recipient: str, subject: str, text: str, html: str | None, headers: dict | None) -> Message:
    return _Message(
        subject=subject,
        recipients=[recipient],
        body=text,
        html=html,
        extra_headers=headers or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )


def _send_one(connection: _TimeoutConnection, deliveries: _Deliveries, row: OutboxMessage) -> str:
    """Send one message; returns its Message-ID or raises _Temporary/_Permanent."""
    try:
        return deliveries.send(connection, row)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        detail = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        raise (_Permanent if code >= 500 else _Temporary)(detail) from exc
    except smtplib.SMTPSenderRefused as exc:
        # Our sender was refused: a configuration problem, not this recipient's.
        raise _Temporary(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise _Permanent(f"not supported by the server: {exc}") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise _ConnectionLost(str(exc) or "server disconnected") from exc
    except smtplib.SMTPResponseException as exc:
        detail = f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
        raise (_Permanent if exc.smtp_code >= 500 else _Temporary)(detail) from exc
    except (OSError, socket.timeout) as exc:
        raise _ConnectionLost(f"{type(exc).__name__}: {exc}") from exc


def _retry_later(row: OutboxMessage, error: str, now: dt.datetime) -> bool:
    """Schedule another attempt with exponential backoff and jitter.
    Returns False (and fails the row) once attempts run out."""
    config = current_app.config
    row.last_error = error[:2000]
    row.lease_until = None
    row.claimed_by = None
    if row.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        row.status = OutboxStatus.FAILED
        return False
    delay = min(
        config["OUTBOX_BACKOFF_MAX_SECONDS"],
        config["OUTBOX_BACKOFF_BASE_SECONDS"] * 2 ** (row.attempts - 1),
    )
    row.status = OutboxStatus.QUEUED
    row.due_at = now + dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))
    return True


def deliver_batch(worker_id: str | None = None) -> BatchResult:
    """Claim one batch of due messages and deliver it over one connection.
    Results are committed once per batch: a worker killed mid-batch can at
    worst cause the rest of that batch to be sent again after its lease."""
    worker_id = worker_id or uuid.uuid4().hex
    rows = claim_due_messages(current_app.config["OUTBOX_BATCH_SIZE"], worker_id)
    result = BatchResult()
    if not rows:
        return result
    deliveries = _Deliveries(rows)
    pace = _Pace(current_app.config["OUTBOX_RATE_PER_SECOND"])
    pending = list(rows)
    in_flight = None
    reconnect = True
    try:
        with _TimeoutConnection(current_app.extensions["mail"]) as connection:
            while pending:
                row = pending[0]
                reason = deliveries.skip_reason(row)
                if reason:
                    row.status, row.last_error, row.lease_until = OutboxStatus.SKIPPED, reason, None
                    result.skipped += 1
                    pending.pop(0)
                    continue
                in_flight = row
                row.attempts += 1
                pace.wait()
                try:
                    row.message_id = _send_one(connection, deliveries, row)
                except _ConnectionLost:
                    if not reconnect:
                        raise
                    # The server dropped an idle or busy connection: open a
                    # new one (once per batch) and try this message again.
                    reconnect = False
                    row.attempts -= 1
                    connection.reopen()
                    continue
                except _Temporary as exc:
                    if _retry_later(row, str(exc), utcnow()):
                        result.retried += 1
                    else:
                        result.failed += 1
                except _Permanent as exc:
                    row.status = OutboxStatus.FAILED
                    row.last_error = str(exc)[:2000]
                    row.lease_until = None
                    result.failed += 1
                else:
                    row.status = OutboxStatus.SENT
                    row.sent_at = utcnow()
                    row.lease_until = None
                    result.sent += 1
                pending.pop(0)
                in_flight = None
    except (_ConnectionLost, OSError, smtplib.SMTPException) as exc:
        # Could not connect, or the server dropped us: every message not yet
        # settled goes back to the queue for a later try.
        now = utcnow()
        error = str(exc) or type(exc).__name__
        for row in pending:
            if row is not in_flight:
                row.attempts += 1
            if _retry_later(row, f"connection: {error}", now):
                result.retried += 1
            else:
                result.failed += 1
        log.warning("outbox: SMTP unavailable (%s); %d message(s) rescheduled", error, len(pending))
    db.session.commit()
    return result


class _Pace:
    """Keeps sending at most ``rate`` messages a second (0: as fast as possible)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


def status_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys((s.value for s in OutboxStatus), 0)
    counts.update({status: n for status, n in rows})
    return counts
