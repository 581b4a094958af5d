"""The delivery engine: a durable queue of messages, and the worker that
delivers them.

A message is a row of ``outbox_message`` written in the same transaction as
the change that caused it (``enqueue``, or ``queue_from`` inside a bigger
statement), so it exists exactly when that change does. A worker
(`flask outbox work`) claims due rows under a lease, delivers them, records
the result, retries temporary failures with backoff and keeps a row that
keeps failing as a dead letter (status ``failed``) for `flask outbox
retry-dead`. A transport being down delays messages; it never loses them.

The engine knows no kind of message. Each **kind** is registered by the
module that owns it (``register_kind``) and says how to load what a batch of
its messages needs, whether each is still wanted at send time, and how to
render it; its **transport** (SMTP, ``campaign.smtp``; an HTTP POST, ``campaign.webhooks``)
delivers what it renders. Work that makes messages in bulk (an update's
fan-out, milestones) registers as a **producer** and runs once per turn of
the worker, before delivery."""
from __future__ import annotations

import datetime as dt
import logging
import random
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import ColumnElement, and_, bindparam, func, insert, literal, or_, select, text, union_all, update

from . import mailboxes
from .extensions import db, on_postgresql
from .models import OutboxMessage, OutboxStatus, utcnow
from .statements import cached

log = logging.getLogger(__name__)


# --- Kinds, transports, producers ---------------------------------------------

class TemporaryFailure(Exception):
    """Worth trying again later (a 4xx reply, a refused or dropped connection)."""


class PermanentFailure(Exception):
    """Refused for good (a 5xx reply for this recipient)."""


class ConnectionLost(TemporaryFailure):
    """The far end went away: reconnect, or leave the rest of the batch for later."""


class Connection(Protocol):
    """A transport's connection, open for one batch."""

    def open(self) -> None: ...
    def send(self, rendered: Any) -> str: ...      # returns an id for the record; raises the failures above
    def reopen(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class MessageKind:
    """What the engine needs to know of one kind of message."""

    name: str
    # What a batch of this kind's messages needs (signatures, an update...),
    # loaded once per batch: deliveries -> what ``still_wanted`` and ``render`` take.
    load: Callable[[list[Delivery]], Any]
    # None if the message should still go out, else why not (recorded on the row).
    still_wanted: Callable[[Any, Delivery], str | None]
    # The message, in the form its transport sends.
    render: Callable[[Any, Delivery], Any]
    transport: str = "smtp"
    # How long a message that keeps failing for a while is retried (from its
    # created_at) before it becomes a dead letter; None: OUTBOX_MAX_ATTEMPTS tries.
    retry_for: dt.timedelta | None = None
    # The mailbox rules (see ``mailboxes``): not sent to a mailbox that
    # stopped all email...
    suppressible: bool = True
    # ...and counted against the mailbox's allowance of emails it did not
    # yet ask for (a confirmation link, not an update it opted in to).
    capped: bool = False


_kinds: dict[str, MessageKind] = {}
_transports: dict[str, Callable[[], Connection]] = {}
# Transports held to OUTBOX_RATE_PER_SECOND (a mail relay's limit).
_paced: set[str] = set()
_producers: list[Callable[[], bool]] = []


def register_kind(kind: MessageKind) -> MessageKind:
    _kinds[kind.name] = kind
    return kind


def register_transport(name: str, connect: Callable[[], Connection], paced: bool = True) -> None:
    """``connect`` makes a connection (not yet open) for one batch; a
    ``paced`` transport sends at most OUTBOX_RATE_PER_SECOND messages."""
    _transports[name] = connect
    if paced:
        _paced.add(name)
    else:
        _paced.discard(name)


def register_producer(produce: Callable[[], bool]) -> Callable[[], bool]:
    """``produce`` makes messages and returns whether it did anything; the
    worker calls every producer once per turn, in the order registered."""
    if produce not in _producers:
        _producers.append(produce)
    return produce


def kind_names() -> list[str]:
    return sorted(_kinds)


# --- Writing ------------------------------------------------------------------

_QUEUED_COLUMNS = ["kind", "recipient", "subject", "body_text", "body_html", "headers", "signature_id",
                   "update_id", "business_id", "webhook_endpoint_id", "status", "created_at", "due_at", "attempts"]


def queue_from(kind, recipient, *, at, signature_id=None, update_id=None, business_id=None, subject="",
               body_text="", body_html=None, headers=None, webhook_endpoint_id=None, where=None, order_by=None):
    """The one writer of outbox rows: INSERT ... SELECT of queued messages.
    Every argument may be a column (of a CTE, or of the ``signature`` table
    with ``where`` choosing its rows and ``order_by`` their order: one
    message per row) or a bound value;
    plain Python values become literals. ``signature_id``, ``update_id`` and
    ``business_id`` (and a webhook's ``webhook_endpoint_id``) are references
    for the message's kind to load; the engine does not read them."""
    values = [kind, recipient, subject, body_text, body_html, headers, signature_id, update_id, business_id,
              webhook_endpoint_id, OutboxStatus.QUEUED.value, at, at, 0]
    table = OutboxMessage.__table__
    rows = select(*(value if _is_sql(value) else literal(value, table.c[column].type)
                    for column, value in zip(_QUEUED_COLUMNS, values, strict=True)))
    if where is not None:
        rows = rows.where(where)
    if order_by is not None:
        rows = rows.order_by(order_by)
    return insert(OutboxMessage.__table__).from_select(_QUEUED_COLUMNS, rows)


def _is_sql(value) -> bool:
    return isinstance(value, ColumnElement) or hasattr(value, "__clause_element__")


def enqueue(kind: str, recipient: str, **values) -> None:
    """Queue one message in the current transaction; the caller commits.
    ``values``: the other arguments of ``queue_from``, as plain values."""
    now = utcnow()
    db.session.execute(queue_from(kind, recipient, at=now, **values))


# --- Claiming ------------------------------------------------------------------

@dataclass
class Delivery:
    """A claimed message as the engine and its kinds see it; what happens to
    it is written back once per batch."""

    id: int
    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    headers: dict | None
    signature_id: int | None
    update_id: int | None
    business_id: int | None
    webhook_endpoint_id: int | None
    status: str
    attempts: int
    created_at: dt.datetime
    due_at: dt.datetime
    claimed_by: str | None
    last_error: str | None = None
    message_id: str | None = None
    sent_at: dt.datetime | None = None


_DELIVERY_COLUMNS = [name for name in Delivery.__dataclass_fields__ if name not in ("message_id", "sent_at")]
_RECORDED = ["status", "attempts", "due_at", "claimed_by", "last_error", "message_id", "sent_at"]


def _claim():
    """One UPDATE ... RETURNING that leases the due rows: on PostgreSQL the
    rows are chosen with SKIP LOCKED, so workers never wait for each other;
    the condition is checked again by the UPDATE itself, so two workers that
    chose the same rows (SQLite has no SKIP LOCKED) cannot both take one.

    Queued rows and rows whose lease ran out are chosen apart, each an
    ordered range of the (status, due_at) index: one condition with an OR
    of the two had the database read and sort the whole queue for every
    batch (a fifth of a second at 100,000 queued)."""
    table = OutboxMessage.__table__
    now = bindparam("now")
    limit = bindparam("limit")
    queued = and_(table.c.status == OutboxStatus.QUEUED.value, table.c.due_at <= now)
    # A worker that died holding rows: its lease runs out, others take over.
    expired = and_(table.c.status == OutboxStatus.SENDING.value, table.c.lease_until < now)
    choices = []
    for name, condition in (("chosen_queued", queued), ("chosen_expired", expired)):
        candidates = select(table.c.id).where(condition).order_by(table.c.due_at).limit(limit)
        if on_postgresql():
            candidates = candidates.with_for_update(skip_locked=True)
        # Chosen once, in a CTE: PostgreSQL may run an IN (... LIMIT) subquery
        # more than once, and so lease more rows than asked.
        choices.append(candidates.cte(name).prefix_with("MATERIALIZED", dialect="postgresql"))
    chosen = union_all(*(select(choice.c.id) for choice in choices))
    return (update(table).where(table.c.id.in_(chosen), or_(queued, expired))
            .values(status=OutboxStatus.SENDING.value, lease_until=bindparam("lease_until"),
                    claimed_by=bindparam("worker_id"))
            .returning(*(table.c[name] for name in _DELIVERY_COLUMNS)))


def claim_due_messages(limit: int, worker_id: str) -> list[Delivery]:
    """Lease up to ``limit`` due messages to this worker and commit the lease."""
    now = utcnow()
    lease_until = now + dt.timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    rows = db.session.connection().execute(cached("outbox claim", _claim), {
        "now": now, "limit": limit, "lease_until": lease_until, "worker_id": worker_id}).all()
    db.session.commit()
    return sorted((Delivery(*row) for row in rows), key=lambda delivery: delivery.id)


def _record(deliveries: list[Delivery]) -> None:
    """Write what happened to each delivery of a batch: on PostgreSQL one
    UPDATE ... FROM unnest() of the batch's values (an executemany ran one
    UPDATE per message, a tenth of a webhook's cost); elsewhere one
    executemany."""
    if on_postgresql():
        db.session.connection().execute(_RECORD_ALL, {
            f"new_{name}": [getattr(d, name) for d in deliveries] for name in ("id", *_RECORDED)})
        db.session.commit()
        return
    table = OutboxMessage.__table__

    def build():
        return (update(table).where(table.c.id == bindparam("delivery_id"))
                .values({**{name: bindparam(f"new_{name}") for name in _RECORDED}, "lease_until": None}))

    db.session.connection().execute(cached("outbox record", build), [
        {"delivery_id": d.id, **{f"new_{name}": getattr(d, name) for name in _RECORDED}} for d in deliveries])
    db.session.commit()


_RECORD_ALL = text(
    "UPDATE outbox_message SET status = recorded.status, attempts = recorded.attempts, "
    "due_at = recorded.due_at, claimed_by = recorded.claimed_by, last_error = recorded.last_error, "
    "message_id = recorded.message_id, sent_at = recorded.sent_at, lease_until = NULL "
    "FROM unnest(CAST(:new_id AS integer[]), CAST(:new_status AS varchar[]), CAST(:new_attempts AS integer[]), "
    "CAST(:new_due_at AS timestamp[]), CAST(:new_claimed_by AS varchar[]), CAST(:new_last_error AS text[]), "
    "CAST(:new_message_id AS varchar[]), CAST(:new_sent_at AS timestamp[])) "
    "AS recorded(id, status, attempts, due_at, claimed_by, last_error, message_id, sent_at) "
    "WHERE outbox_message.id = recorded.id")


# --- Delivering -----------------------------------------------------------------

@dataclass
class BatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    produced: bool = False

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped

    def add(self, other: BatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.skipped += other.skipped


def _settle(row: Delivery, status: OutboxStatus, error: str | None = None) -> None:
    row.status = status.value
    if error is not None:
        row.last_error = error[:2000]


def _retry_later(row: Delivery, error: str, now: dt.datetime, result: BatchResult) -> None:
    """Schedule another attempt with exponential backoff and jitter, or keep
    the row as a dead letter once its attempts (or its kind's time to keep
    retrying) have run out."""
    config = current_app.config
    row.claimed_by = None
    kind = _kinds.get(row.kind)
    if kind is not None and kind.retry_for is not None:
        given_up = now - row.created_at >= kind.retry_for
    else:
        given_up = row.attempts >= config["OUTBOX_MAX_ATTEMPTS"]
    if given_up:
        _settle(row, OutboxStatus.FAILED, error)
        result.failed += 1
        return
    delay = min(config["OUTBOX_BACKOFF_MAX_SECONDS"], config["OUTBOX_BACKOFF_BASE_SECONDS"] * 2 ** (row.attempts - 1))
    _settle(row, OutboxStatus.QUEUED, error)
    row.due_at = now + dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))
    result.retried += 1


@dataclass
class _Route:
    """One transport's connection for a batch, opened when first needed."""

    name: str
    connect: Callable[[], Connection]
    connection: Connection | None = None
    reconnected: bool = False
    rows: list[Delivery] = field(default_factory=list)


def deliver_batch(worker_id: str | None = None) -> BatchResult:
    """Claim one batch of due messages and deliver it, over one connection
    per transport. Results are committed once per batch: a worker killed
    mid-batch can at worst cause the rest of that batch to be sent again
    after its lease."""
    worker_id = worker_id or uuid.uuid4().hex
    rows = claim_due_messages(current_app.config["OUTBOX_BATCH_SIZE"], worker_id)
    result = BatchResult()
    if not rows:
        return result
    by_kind: dict[str, list[Delivery]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    loaded, routes = {}, {}
    for name, kind_rows in by_kind.items():
        kind = _kinds.get(name)
        if kind is None or kind.transport not in _transports:
            # Written by a newer release than this worker's: leave it to one that knows it.
            for row in kind_rows:
                row.attempts += 1
                _retry_later(row, f"no kind or transport {name!r} in this worker", utcnow(), result)
            continue
        loaded[name] = kind.load(kind_rows)
        route = routes.setdefault(kind.transport, _Route(kind.transport, _transports[kind.transport]))
        route.rows.extend(kind_rows)
    pace = _Pace(current_app.config["OUTBOX_RATE_PER_SECOND"])
    unpaced = _Pace(0)
    refused = _refusals([row for route in routes.values() for row in route.rows], loaded)
    for route in routes.values():
        route.rows.sort(key=lambda r: r.id)
        try:
            _deliver_route(route, loaded, pace if route.name in _paced else unpaced, result, refused)
        finally:
            if route.connection is not None:
                route.connection.close()
    _record(rows)
    return result


def _refusals(rows: list[Delivery], loaded: dict) -> dict[int, str]:
    """Why each message of a batch that must not go out does not: its kind
    no longer wants it, or the mailbox rules (see ``mailboxes``) keep it
    back. A capped message spends its mailbox's allowance on its first
    attempt only, in the order the batch sends them."""
    refused: dict[int, str] = {}
    # Only emails have mailboxes (a webhook's recipient is its endpoint).
    mailbox = {row.id: mailboxes.mailbox_of(row.recipient) for row in rows
               if _kinds[row.kind].suppressible or _kinds[row.kind].capped}
    suppressed = mailboxes.suppressed(mailbox.values())
    capped = []
    for row in sorted(rows, key=lambda r: r.id):
        kind = _kinds[row.kind]
        reason = kind.still_wanted(loaded[row.kind], row)
        if reason is None and kind.suppressible and mailbox[row.id] in suppressed:
            reason = "mailbox stopped all email"
        if reason is not None:
            refused[row.id] = reason
        elif kind.capped and row.attempts == 0:
            capped.append(row)
    allowed = mailboxes.spend_allowances([mailbox[row.id] for row in capped], utcnow())
    refused.update({row.id: "mailbox allowance reached" for row, ok in zip(capped, allowed, strict=True) if not ok})
    return refused


def _deliver_route(route: _Route, loaded: dict, pace: _Pace, result: BatchResult, refused: dict[int, str]) -> None:
    pending = list(route.rows)
    while pending:
        row = pending[0]
        kind = _kinds[row.kind]
        reason = refused.get(row.id)
        if reason:
            _settle(row, OutboxStatus.SKIPPED, reason)
            result.skipped += 1
            pending.pop(0)
            continue
        try:
            if route.connection is None:
                route.connection = route.connect()
                route.connection.open()
        except ConnectionLost as exc:
            # Could not connect: every message of this transport waits for a later try.
            _reschedule(pending, None, str(exc), result)
            return
        row.attempts += 1
        try:
            rendered = kind.render(loaded[row.kind], row)
        except Exception as exc:  # a fault of this message's, not the batch's: keep it, go on
            log.exception("outbox: could not render message %s (%s)", row.id, row.kind)
            _retry_later(row, f"render: {exc!r}", utcnow(), result)
            pending.pop(0)
            continue
        pace.wait()
        try:
            row.message_id = route.connection.send(rendered)
        except ConnectionLost as exc:
            if route.reconnected:
                _reschedule(pending, row, str(exc), result)
                return
            # The far end dropped an idle or busy connection: open a new one
            # (once per batch) and try this message again.
            route.reconnected = True
            row.attempts -= 1
            try:
                route.connection.reopen()
            except ConnectionLost as again:
                _reschedule(pending, None, str(again), result)
                return
            continue
        except TemporaryFailure as exc:
            _retry_later(row, str(exc), utcnow(), result)
        except PermanentFailure as exc:
            _settle(row, OutboxStatus.FAILED, str(exc))
            result.failed += 1
        else:
            _settle(row, OutboxStatus.SENT)
            row.sent_at = utcnow()
            result.sent += 1
        pending.pop(0)


def _reschedule(pending: list[Delivery], in_flight: Delivery | None, error: str,
                result: BatchResult) -> None:
    now = utcnow()
    for row in pending:
        if row is not in_flight:
            row.attempts += 1
        _retry_later(row, f"connection: {error}", now, result)
    log.warning("outbox: transport unavailable (%s); %d message(s) rescheduled", error, len(pending))


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


# --- The worker -----------------------------------------------------------------

_tidied_at: dict[str, float] = {}


def _tidy() -> None:
    """Once an hour per process: forget mailbox allowances whose windows
    have passed, so the table holds only the last day's mailboxes."""
    key = db.engine.url.render_as_string()
    if time.monotonic() - _tidied_at.get(key, -3600.0) < 3600:
        return
    _tidied_at[key] = time.monotonic()
    mailboxes.forget_spent_windows(utcnow())
    db.session.commit()


def work_once(worker_id: str | None = None) -> BatchResult:
    """One turn of the worker: every producer once, then one delivery batch."""
    _tidy()
    produced = False
    for produce in _producers:
        produced = bool(produce()) or produced
    result = deliver_batch(worker_id)
    result.produced = produced
    return result


def drain(worker_id: str | None = None) -> BatchResult:
    """Produce and deliver until nothing is due (`flask outbox work --once`)."""
    total = BatchResult()
    while True:
        batch = work_once(worker_id)
        total.add(batch)
        if batch.handled == 0 and not batch.produced:
            return total


def run_worker(app: Flask, stop: threading.Event | None = None) -> None:
    """Deliver due messages until ``stop`` is set, polling when idle."""
    stop = stop or threading.Event()
    worker_id = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    with app.app_context():
        poll = app.config["OUTBOX_POLL_SECONDS"]
        while not stop.is_set():
            try:
                batch = work_once(worker_id)
            except Exception:  # keep the worker alive through a database blip
                log.exception("outbox: batch failed")
                db.session.rollback()
                batch = BatchResult()
            finally:
                db.session.remove()
            if batch.handled == 0 and not batch.produced:
                stop.wait(poll)


# --- Looking after the queue ------------------------------------------------------

@dataclass(frozen=True)
class QueueStatus:
    by_status: dict[str, int]
    by_kind: dict[str, dict[str, int]]
    oldest_due: dt.datetime | None
    dead_letters: list[OutboxMessage]


def queue_status(dead_letters: int = 10) -> QueueStatus:
    """Messages by status and by kind, the oldest one waiting, and the latest dead letters."""
    by_status = dict.fromkeys((s.value for s in OutboxStatus), 0)
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys((s.value for s in OutboxStatus), 0))
    for kind, status, n in db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.kind, OutboxMessage.status)
    ).all():
        by_status[status] += n
        by_kind[kind][status] = n
    oldest = db.session.execute(
        select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == OutboxStatus.QUEUED)).scalar_one()
    dead = list(db.session.execute(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc()).limit(dead_letters)).scalars())
    return QueueStatus(by_status, dict(sorted(by_kind.items())), oldest, dead)


def retry_dead(kind: str | None = None) -> int:
    """Put dead letters (of one kind, or all) back in the queue, due now,
    with their attempts counted afresh. Returns how many."""
    condition = [OutboxMessage.status == OutboxStatus.FAILED]
    if kind:
        condition.append(OutboxMessage.kind == kind)
    revived = revive(*condition)
    db.session.commit()
    return revived


def revive(*condition) -> int:
    """Put the dead letters matching ``condition`` back in the queue, due
    now, their attempts (and a kind's time to keep retrying) counted afresh;
    the caller commits. Returns how many."""
    now = utcnow()
    return db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED, *condition)
        .values(status=OutboxStatus.QUEUED, attempts=0, created_at=now, due_at=now, lease_until=None,
                claimed_by=None)
        .execution_options(synchronize_session=False)
    ).rowcount
