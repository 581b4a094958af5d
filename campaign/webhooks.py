"""Webhooks: a campaign's events POSTed to its organisers' endpoints through the delivery engine (see outbox).

An organiser registers endpoints per campaign (a URL, the events it takes,
a secret shown once). When an event happens, the change that caused it adds
one INSERT ... SELECT from ``webhook_endpoint`` to its own transaction
(``event_rows``; ``queue_event`` for one subject): one outbox row of kind
``webhook`` per active endpoint of the campaign that takes the event. The
confirm chain of ``signing`` runs it as one more step of its one statement,
so a confirmation with no endpoint pays one INSERT that selects nothing.

A row holds the event (name, an occurrence id, its time and its small data:
a milestone, a status change) in ``headers`` and the endpoint in
``webhook_endpoint_id``; its recipient is empty (no address: nothing for the
retention sweep to clear; finished deliveries and their attempts are
deleted after RETENTION_OUTBOX_DAYS by ``forget_deliveries``). The payload
is rendered when it is sent, in the shape of OSDI (see osdi), from the rows
as they are then: a delivery that waited through an erasure carries only
the anonymised signature. A delivery whose endpoint was deactivated or no
longer takes the event is skipped.

The transport (see webhook_http) signs each POST (HMAC-SHA256 over
``timestamp + "." + body``), checks the address at delivery and records
every attempt in ``webhook_attempt``: the endpoint's delivery log. 2xx is
sent; 5xx, 408, 429, timeouts and refused connections are retried with
backoff for WEBHOOK_RETRY_HOURS, then dead-lettered; a redirect, another 4xx
or a refused address is a dead letter at once. The wire format is
documented for receivers in templates/api/_webhooks.html."""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, delete, func, literal, select

from . import osdi, outbox, webhook_http
from .extensions import db
from .models import (
    Business,
    Campaign,
    OutboxMessage,
    OutboxStatus,
    Signature,
    SignatureStatus,
    SignatureTally,
    SignQuestion,
    WebhookAttempt,
    WebhookEndpoint,
    utcnow,
)

KIND = "webhook"

EVENTS = ("signature.confirmed", "signature.withdrawn", "signature.invalidated", "signature.erased",
          "business.approved", "supporter.unsubscribed", "campaign.milestone", "campaign.status_changed")
(SIGNATURE_CONFIRMED, SIGNATURE_WITHDRAWN, SIGNATURE_INVALIDATED, SIGNATURE_ERASED, BUSINESS_APPROVED,
 SUPPORTER_UNSUBSCRIBED, CAMPAIGN_MILESTONE, CAMPAIGN_STATUS_CHANGED) = EVENTS
# The event "send a test event" sends; every endpoint takes it.
PING = "ping"

EVENT_LABELS = {
    "signature.confirmed": _l("A signature is confirmed"),
    "signature.withdrawn": _l("A signer withdraws their signature"),
    "signature.invalidated": _l("An organiser invalidates a signature"),
    "signature.erased": _l("A signer erases their data (so must the receiver)"),
    "business.approved": _l("A business is approved"),
    "supporter.unsubscribed": _l("A signer stops the campaign's updates"),
    "campaign.milestone": _l("The campaign reaches a milestone"),
    "campaign.status_changed": _l("The campaign opens, closes or reopens"),
}

# The wire format (documented in templates/api/_webhooks.html).
SIGNATURE_HEADER = webhook_http.SIGNATURE_HEADER
EVENT_HEADER = webhook_http.EVENT_HEADER
EVENT_ID_HEADER = webhook_http.EVENT_ID_HEADER
IDEMPOTENCY_HEADER = webhook_http.IDEMPOTENCY_HEADER
REPLAY_WINDOW_SECONDS = 300

SECRET_PREFIX = "whsec_"
_URL_MAX = 2000
_DESCRIPTION_MAX = 200
_HEADERS_TYPE = OutboxMessage.__table__.c.headers.type


# --- Endpoints ---------------------------------------------------------------------

def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint (a message for the organiser), or
    None. The address it resolves to is checked again at every delivery
    (see webhook_http): this catches what can be seen in the URL itself."""
    url = (url or "").strip()
    if not url:
        return _("Enter the address the events should be sent to.")
    if len(url) > _URL_MAX:
        return _("That address is too long: at most %(n)s characters.", n=_URL_MAX)
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return _("An address cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("That is not a valid web address.")
    relaxed = webhook_http.private_addresses_allowed()
    if parts.scheme not in ("https", "http"):
        return _("The address must start with https://.")
    if parts.scheme == "http" and not (current_app.debug or relaxed):
        return _("The address must use https:// so that the events cannot be read on the way.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return _("Do not put a user name or password in the address: each delivery is signed instead.")
    host = parts.hostname or ""
    if not host:
        return _("The address has no host name.")
    if port == 0:
        return _("That is not a valid web address.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not relaxed and not webhook_http.is_public(address):
            return _("That address is on a private or local network: events can only be sent to the public internet.")
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return _("That host name is not valid.")
    labels = ascii_host.rstrip(".").split(".")
    if not all(label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label)
               and not label.startswith("-") and not label.endswith("-") for label in labels):
        return _("That host name is not valid.")
    if not relaxed and (len(labels) < 2 or labels[-1] in ("localhost", "local", "internal", "localdomain")
                        or labels[-1].isdigit()):
        return _("That host name is not on the public internet: events can only be sent there.")
    return None


def _events_value(events) -> str:
    chosen = [name for name in EVENTS if name in set(events or ())]
    return " " + " ".join(chosen) + " "


def events_of(endpoint: WebhookEndpoint) -> list[str]:
    return [name for name in (endpoint.events or "").split() if name in EVENTS]


def new_secret_value() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def create_endpoint(campaign, url: str, events, organiser, description: str = "") -> tuple[WebhookEndpoint, str]:
    """A new endpoint of ``campaign`` (added and flushed) and its secret,
    shown once; the caller commits."""
    secret = new_secret_value()
    endpoint = WebhookEndpoint(campaign_id=campaign.id, url=url.strip(), secret=secret,
                               events=_events_value(events), description=(description or "").strip()[:_DESCRIPTION_MAX],
                               active=True, created_by_id=getattr(organiser, "id", None), created_at=utcnow())
    db.session.add(endpoint)
    db.session.flush()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, url: str, events, active: bool, description: str) -> None:
    """Change an endpoint; deliveries already queued follow it (they are
    rendered, and sent to its URL, when sent). The caller commits."""
    endpoint.url = url.strip()
    endpoint.events = _events_value(events)
    endpoint.active = bool(active)
    endpoint.description = (description or "").strip()[:_DESCRIPTION_MAX]


def new_secret(endpoint: WebhookEndpoint) -> str:
    """Rotate the endpoint's secret: deliveries from now on are signed with
    the new one. Returns it (shown once); the caller commits."""
    endpoint.secret = new_secret_value()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its queued deliveries and its log; the caller commits."""
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint.id)
                       .execution_options(synchronize_session=False))
    db.session.delete(endpoint)


def endpoints_of(campaign) -> list[WebhookEndpoint]:
    return list(db.session.execute(
        select(WebhookEndpoint).where(WebhookEndpoint.campaign_id == campaign.id).order_by(WebhookEndpoint.id)
    ).scalars())


def delivery_log(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookAttempt]:
    """The endpoint's latest delivery attempts, newest first."""
    return list(db.session.execute(
        select(WebhookAttempt).where(WebhookAttempt.endpoint_id == endpoint.id)
        .order_by(WebhookAttempt.id.desc()).limit(limit)).scalars())


def dead_letters(endpoint: WebhookEndpoint, limit: int = 20) -> list[tuple[OutboxMessage, WebhookAttempt | None]]:
    """The endpoint's deliveries that were given up on, newest first, each
    with its last attempt (status, error, the start of the response)."""
    messages = list(db.session.execute(
        select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint.id,
                                    OutboxMessage.kind == KIND, OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.id.desc()).limit(limit)).scalars())
    if not messages:
        return []
    ids = [message.id for message in messages]
    latest = (select(func.max(WebhookAttempt.id)).where(WebhookAttempt.message_id.in_(ids))
              .group_by(WebhookAttempt.message_id))
    attempts = {attempt.message_id: attempt for attempt in db.session.execute(
        select(WebhookAttempt).where(WebhookAttempt.id.in_(latest))).scalars()}
    return [(message, attempts.get(message.id)) for message in messages]


def event_of(message: OutboxMessage) -> str:
    """The event a webhook delivery carries (for the screens)."""
    return (message.headers or {}).get("event", "")


def send_test_event(endpoint: WebhookEndpoint) -> None:
    """Queue a ``ping`` event to this endpoint now (whatever events it
    takes, active or not); the caller commits."""
    now = utcnow()
    db.session.execute(outbox.queue_from(KIND, "", at=now, headers=_headers(PING, now, {"test": True}),
                                         webhook_endpoint_id=endpoint.id))


def redeliver(endpoint: WebhookEndpoint, message_id: int) -> bool:
    """Put a dead letter of this endpoint back in the queue, due now, with
    its 24 hours of retries afresh; False if it is not one. The caller commits."""
    return outbox.revive(OutboxMessage.id == message_id, OutboxMessage.webhook_endpoint_id == endpoint.id,
                         OutboxMessage.kind == KIND) > 0


# --- Queuing events ------------------------------------------------------------------

def _headers(name: str, at: dt.datetime, data: dict | None = None) -> dict:
    """What a delivery row keeps of its event: the name, an occurrence id
    (a statement that queues one event for many signatures stores one; each
    signature's event id is derived from it, see ``event_id``), its time
    and its data."""
    return {"event": name, "id": str(uuid.uuid4()), "at": osdi.timestamp(at), "data": data or {}}


def headers_param(name: str, at: dt.datetime, data: dict | None = None) -> dict:
    """The value of the ``webhook_headers`` parameter of a statement built
    by ``event_rows`` with ``headers=bindparam("webhook_headers")`` (the
    confirm chain's: built once, run with a fresh event each time)."""
    return _headers(name, at, data)


def headers_bind(name: str = "webhook_headers"):
    return bindparam(name, type_=_HEADERS_TYPE)


def takes(event: str):
    """The condition on ``webhook_endpoint`` of an endpoint that takes ``event`` now."""
    table = WebhookEndpoint.__table__
    return and_(table.c.active.is_(True), table.c.events.contains(f" {event} ", autoescape=True))


def event_rows(name: str, campaign_id, *, at, headers, signature_id=None, business_id=None, where=None):
    """The INSERT ... SELECT from ``webhook_endpoint`` (joined to whatever
    ``signature_id``/``campaign_id`` are columns of, with ``where``) that
    queues event ``name`` to every active endpoint of the campaign that
    takes it. Any argument may be a column or a bound parameter."""
    table = WebhookEndpoint.__table__
    condition = and_(table.c.campaign_id == campaign_id, takes(name))
    if where is not None:
        condition = and_(condition, where)
    return outbox.queue_from(KIND, "", at=at, headers=headers, signature_id=signature_id,
                             business_id=business_id, webhook_endpoint_id=table.c.id, where=condition)


def queue_event(name: str, campaign_id: int, *, signature_id: int | None = None, business_id: int | None = None,
                data: dict | None = None) -> None:
    """Queue event ``name`` (one of EVENTS) of one subject to the campaign's
    endpoints that take it: one INSERT ... SELECT added to the session;
    the caller commits."""
    now = utcnow()
    db.session.execute(event_rows(name, literal(campaign_id), at=now, headers=_headers(name, now, data),
                                  signature_id=signature_id, business_id=business_id))


def queue_signature_events(name: str, campaign_id: int, signature_ids, data: dict | None = None) -> None:
    """Queue event ``name`` for many signatures of one campaign at once: one
    INSERT ... SELECT of endpoints joined to the signatures (``signature_ids``:
    a list, or a SELECT of ids). The caller commits."""
    signature = Signature.__table__
    now = utcnow()
    if isinstance(signature_ids, list | tuple | set) and not signature_ids:
        return
    db.session.execute(event_rows(name, signature.c.campaign_id, at=now, headers=_headers(name, now, data),
                                  signature_id=signature.c.id,
                                  where=and_(signature.c.campaign_id == campaign_id,
                                             signature.c.id.in_(signature_ids))))


# --- Delivering --------------------------------------------------------------------------

_EVENT_NAMESPACE = uuid.UUID("6f1c1d1e-9a43-4c54-8d5b-2f3b0c6d7a10")


def event_id(headers: dict, signature_id: int | None, business_id: int | None) -> str:
    """The event's id: the same for every endpoint that receives it. A
    statement that queued it for many signatures stored one occurrence id;
    each signature's event gets its own, derived from it."""
    occurrence = headers.get("id") or ""
    subject = f"s{signature_id}" if signature_id else (f"b{business_id}" if business_id else "")
    if not subject:
        return occurrence
    return _name_uuid(occurrence, subject)


def idempotency_key(event: str, endpoint_id: int) -> str:
    """The same on every attempt (and redelivery) of one event to one endpoint."""
    return _name_uuid(event, f"endpoint:{endpoint_id}")


def _name_uuid(namespace: str, name: str) -> str:
    """``str(uuid.uuid5(uuid.UUID(namespace), name))`` without the UUID
    objects, which were a tenth of a delivery's rendering."""
    digest = bytearray(hashlib.sha1(bytes.fromhex(namespace.replace("-", "")) + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass
class _Batch:
    endpoints: dict[int, Any]
    campaigns: dict[int, Any] = field(default_factory=dict)
    totals: dict[int, int] = field(default_factory=dict)
    signatures: dict[int, Any] = field(default_factory=dict)
    businesses: dict[int, Any] = field(default_factory=dict)
    questions: dict[int, dict[str, str]] = field(default_factory=dict)
    petitions: dict[int, dict] = field(default_factory=dict)
    encoded: dict[int, str] = field(default_factory=dict)
    # The delivery the engine sends after each (in id order), and bodies
    # rendered ahead: while an endpoint answers one delivery, the transport
    # renders the next (see webhook_http.WebhookRequest.meanwhile).
    following: dict[int, outbox.Delivery] = field(default_factory=dict)
    ready: dict[int, tuple[bytes, str, str]] = field(default_factory=dict)

    def prepare(self, row: outbox.Delivery) -> None:
        if row.id not in self.ready and _still_wanted(self, row) is None:
            self.ready[row.id] = _body(self, row)

    def petition(self, campaign_id: int) -> dict | None:
        found = self.petitions.get(campaign_id)
        if found is None and campaign_id in self.campaigns:
            found = self.petitions[campaign_id] = osdi.petition(self.campaigns[campaign_id],
                                                                self.totals.get(campaign_id, 0))
        return found


_ENDPOINT_COLUMNS = ("id", "campaign_id", "url", "secret", "events", "active")


def _load(rows: list[outbox.Delivery]) -> _Batch:
    """What a batch of deliveries needs, in a handful of queries."""
    endpoint = WebhookEndpoint.__table__
    ids = {row.webhook_endpoint_id for row in rows if row.webhook_endpoint_id}
    batch = _Batch({e.id: e for e in db.session.execute(
        select(*(endpoint.c[name] for name in _ENDPOINT_COLUMNS)).where(endpoint.c.id.in_(ids)))} if ids else {})
    campaign_ids = {e.campaign_id for e in batch.endpoints.values()}
    if campaign_ids:
        campaign, tally = Campaign.__table__, SignatureTally.__table__
        batch.campaigns = {c.id: c for c in db.session.execute(select(campaign).where(campaign.c.id.in_(campaign_ids)))}
        batch.totals = dict(db.session.execute(
            select(tally.c.campaign_id, func.coalesce(func.sum(tally.c.signatures), 0))
            .where(tally.c.campaign_id.in_(campaign_ids), tally.c.status == SignatureStatus.CONFIRMED.value)
            .group_by(tally.c.campaign_id)).all())
    signature_ids = {row.signature_id for row in rows if row.signature_id}
    if signature_ids:
        batch.signatures = {s.id: s for s in db.session.execute(
            osdi.signature_rows()
            .where(Signature.id.in_(signature_ids)))}
        question = SignQuestion.__table__
        for q in db.session.execute(select(question.c.id, question.c.campaign_id, question.c.label).where(
                question.c.campaign_id.in_({s.campaign_id for s in batch.signatures.values()}))):
            batch.questions.setdefault(q.campaign_id, {})[str(q.id)] = q.label
    business_ids = {row.business_id for row in rows if row.business_id}
    if business_ids:
        business = Business.__table__
        batch.businesses = {b.id: b for b in db.session.execute(
            select(business).where(business.c.id.in_(business_ids)))}
    ordered = sorted(rows, key=lambda row: row.id)
    batch.following = {row.id: after for row, after in zip(ordered, ordered[1:], strict=False)}
    return batch


def _still_wanted(batch: _Batch, row: outbox.Delivery) -> str | None:
    endpoint = batch.endpoints.get(row.webhook_endpoint_id)
    if endpoint is None:
        return "endpoint deleted"
    event = (row.headers or {}).get("event")
    if event == PING:
        return None
    if not endpoint.active:
        return "endpoint deactivated"
    if f" {event} " not in (endpoint.events or ""):
        return f"endpoint no longer takes {event}"
    if event and event.startswith("signature.") and row.signature_id not in batch.signatures:
        return "signature removed"
    if event == "business.approved" and row.business_id not in batch.businesses:
        return "business removed"
    return None


_PETITION = object()  # where the petition goes in a payload, encoded once per batch


def payload(batch: _Batch, row: outbox.Delivery, petition: Any = None) -> dict:
    """The JSON body of a delivery, from the rows as they are now
    (``petition``: what to put for the petition instead of its dict)."""
    headers = row.headers or {}
    name = headers.get("event", "")
    endpoint = batch.endpoints[row.webhook_endpoint_id]
    event = event_id(headers, row.signature_id, row.business_id)
    body: dict[str, Any] = {"id": event, "type": name, "created_date": headers.get("at"),
                            "idempotency_key": idempotency_key(event, endpoint.id),
                            "petition": batch.petition(endpoint.campaign_id) if petition is None else petition}
    data = headers.get("data") or {}
    signature = batch.signatures.get(row.signature_id) if row.signature_id else None
    if signature is not None:
        body["signature"] = osdi.signature(signature, batch.questions.get(signature.campaign_id))
    business = batch.businesses.get(row.business_id) if row.business_id else None
    if business is not None:
        body["business"] = osdi.business(business)
    if name == "campaign.milestone":
        body["milestone"] = data.get("milestone")
    elif name == "campaign.status_changed":
        body["status_change"] = {"from": data.get("from"), "to": data.get("to")}
    elif name == PING:
        body["test"] = True
    elif data:
        body["data"] = data
    return body


_MARK = "\x00petition\x00"


def _encode(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _body(batch: _Batch, row: outbox.Delivery) -> tuple[bytes, str, str]:
    """The encoded body of a delivery, its event id and idempotency key."""
    endpoint = batch.endpoints[row.webhook_endpoint_id]
    body = payload(batch, row, petition=_MARK)
    # The petition is the same for the whole batch: encoded once, put in place.
    encoded = batch.encoded.get(endpoint.campaign_id)
    if encoded is None:
        encoded = batch.encoded[endpoint.campaign_id] = _encode(batch.petition(endpoint.campaign_id))
    text = _encode(body).replace(_encode(_MARK), encoded, 1)
    return text.encode(), body["id"], body["idempotency_key"]


def _render(batch: _Batch, row: outbox.Delivery) -> webhook_http.WebhookRequest:
    endpoint = batch.endpoints[row.webhook_endpoint_id]
    ready = batch.ready.pop(row.id, None)
    body, event, key = ready if ready is not None else _body(batch, row)
    following = batch.following.get(row.id)
    return webhook_http.WebhookRequest(
        url=endpoint.url, secret=endpoint.secret, body=body, event=(row.headers or {}).get("event", ""),
        event_id=event, idempotency_key=key, message_id=row.id, endpoint_id=endpoint.id, attempt=row.attempts,
        meanwhile=None if following is None else lambda: batch.prepare(following))


# A delivery that keeps failing temporarily is retried (with the outbox's
# backoff) for this long from when it was queued, then kept as a dead letter.
WEBHOOK_RETRY_HOURS = 24

outbox.register_kind(outbox.MessageKind(KIND, load=_load, still_wanted=_still_wanted, render=_render,
                                        transport=webhook_http.TRANSPORT,
                                        retry_for=dt.timedelta(hours=WEBHOOK_RETRY_HOURS),
                                        suppressible=False, capped=False))


# --- Forgetting -----------------------------------------------------------------------------

_FINISHED = (OutboxStatus.SENT.value, OutboxStatus.SKIPPED.value, OutboxStatus.FAILED.value)


def forget_deliveries(cutoff: dt.datetime, limit: int) -> int:
    """Delete up to ``limit`` finished webhook deliveries last due before
    ``cutoff`` with their attempts, and attempts made before it; the caller
    commits. Returns how many rows (deliveries and attempts) went: 0 when
    nothing is left."""
    message, attempt = OutboxMessage.__table__, WebhookAttempt.__table__
    ids = db.session.execute(
        select(message.c.id).where(message.c.kind == KIND, message.c.status.in_(_FINISHED),
                                   message.c.due_at < cutoff).order_by(message.c.id).limit(limit)).scalars().all()
    gone = 0
    if ids:
        gone += db.session.execute(delete(attempt).where(attempt.c.message_id.in_(ids))
                                   .execution_options(synchronize_session=False)).rowcount
        gone += db.session.execute(delete(message).where(message.c.id.in_(ids), message.c.status.in_(_FINISHED))
                                   .execution_options(synchronize_session=False)).rowcount
    old = select(attempt.c.id).where(attempt.c.created_at < cutoff).order_by(attempt.c.id).limit(limit)
    old_ids = db.session.execute(old).scalars().all()
    if old_ids:
        gone += db.session.execute(delete(attempt).where(attempt.c.id.in_(old_ids))
                                   .execution_options(synchronize_session=False)).rowcount
    return gone
