"""Durable email. ``enqueue`` writes a row in the caller's transaction; the
worker claims due rows, sends them over one SMTP connection per batch, and
records the result. SMTP being down delays mail; it never loses it."""
from __future__ import annotations

import datetime as dt
import logging
import random
import smtplib
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from flask import Flask, current_app, render_template
from flask_mail import Connection, Message
from sqlalchemy import and_, func, or_, select, update

from .extensions import db
from .models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)


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
    subject = render_template(f"email/{template}.subject.txt", **context).strip()
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        # Never let a newline from user data reach a header.
        subject=" ".join(subject.split()),
        body_text=render_template(f"email/{template}.txt", **context),
        body_html=render_template(f"email/{template}.html", **context),
        headers=headers,
        signature_id=signature_id,
    )
    db.session.add(message)
    return message


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
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()


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

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


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
    if db.session.get_bind().dialect.name == "postgresql":
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


def _as_mail_message(row: OutboxMessage) -> Message:
    message = Message(
        subject=row.subject,
        recipients=[row.recipient],
        body=row.body_text,
        html=row.body_html,
        extra_headers=row.headers or None,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    return message


def _send_one(connection: _TimeoutConnection, row: OutboxMessage) -> str:
    """Send one message; returns its Message-ID or raises _Temporary/_Permanent."""
    message = _as_mail_message(row)
    try:
        connection.send(message)
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
    return message.msgId


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
    """Claim one batch of due messages and deliver it over one connection."""
    worker_id = worker_id or uuid.uuid4().hex
    rows = claim_due_messages(current_app.config["OUTBOX_BATCH_SIZE"], worker_id)
    result = BatchResult()
    if not rows:
        return result
    pending = list(rows)
    in_flight = None
    try:
        with _TimeoutConnection(current_app.extensions["mail"]) as connection:
            while pending:
                row = in_flight = pending[0]
                row.attempts += 1
                try:
                    row.message_id = _send_one(connection, row)
                except _ConnectionLost:
                    raise
                except _Temporary as exc:
                    if _retry_later(row, str(exc), utcnow()):
                        result.retried += 1
                    else:
                        result.failed += 1
                except _Permanent as exc:
                    row.status = OutboxStatus.FAILED
                    row.last_error = str(exc)[:2000]
                    result.failed += 1
                else:
                    row.status = OutboxStatus.SENT
                    row.sent_at = utcnow()
                    row.lease_until = None
                    result.sent += 1
                pending.pop(0)
                in_flight = None
                db.session.commit()
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
        db.session.commit()
        log.warning("outbox: SMTP unavailable (%s); %d message(s) rescheduled", error, len(pending))
    return result


def drain(worker_id: str | None = None) -> BatchResult:
    """Deliver batches until nothing is due (or the server is unreachable)."""
    total = BatchResult()
    while True:
        batch = deliver_batch(worker_id)
        total.sent += batch.sent
        total.retried += batch.retried
        total.failed += batch.failed
        if batch.handled == 0:
            return total


def run_worker(app: Flask, stop: threading.Event | None = None) -> None:
    """Deliver due messages until ``stop`` is set, polling when idle."""
    stop = stop or threading.Event()
    worker_id = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    with app.app_context():
        poll = app.config["OUTBOX_POLL_SECONDS"]
        while not stop.is_set():
            try:
                batch = deliver_batch(worker_id)
            except Exception:  # keep the worker alive through a database blip
                log.exception("outbox: batch failed")
                db.session.rollback()
                batch = BatchResult()
            finally:
                db.session.remove()
            if batch.handled == 0:
                stop.wait(poll)


def status_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys((s.value for s in OutboxStatus), 0)
    counts.update({status: n for status, n in rows})
    return counts
