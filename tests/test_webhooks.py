"""Webhooks: each event from its real action, signed, delivered at least
once with an idempotency key, retried for 24 hours then a dead letter,
redelivered; refused at delivery for addresses off the public internet;
timeouts, redirects and big answers; the sweep; what confirming pays."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import threading
import time

import pytest
from sqlalchemy import event, func, select

from campaign import (
    ConfigurationError,
    businesses,
    campaigns,
    create_app,
    moderation,
    my_data,
    outbox,
    retention,
    signing,
    subscriptions,
    webhook_http,
    webhooks,
)
from campaign.extensions import db
from campaign.models import (
    Business,
    BusinessStatus,
    CampaignStatus,
    OutboxMessage,
    OutboxStatus,
    Signature,
    WebhookAttempt,
    utcnow,
)

from .builders import confirmed_signatures, make_campaign, make_organiser
from .conftest import fresh_app
from .webhook_receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def hook_app(database_url, mail_server, tmp_path):
    """An app whose webhooks may reach the receiver on 127.0.0.1 (the test-only relaxation)."""
    with fresh_app(database_url, mail_server, tmp_path, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True,
                   WEBHOOK_TIMEOUT_SECONDS=0.5) as app, app.app_context():
        yield app


@pytest.fixture
def strict_app(app):
    """The app as in production: no relaxation."""
    with app.app_context():
        yield app


class Clock:
    def __init__(self, monkeypatch):
        self.now = utcnow()
        for module in (outbox, webhooks, webhook_http):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def add_endpoint(campaign, url, events=webhooks.EVENTS):
    endpoint, secret = webhooks.create_endpoint(campaign, url, set(events), None, "CRM")
    db.session.commit()
    return endpoint, secret


def drain():
    result = outbox.drain()
    db.session.expire_all()
    return result


def deliveries(status=None):
    query = select(OutboxMessage).where(OutboxMessage.kind == webhooks.KIND).order_by(OutboxMessage.id)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.execute(query).scalars())


def attempts():
    return list(db.session.execute(select(WebhookAttempt).order_by(WebhookAttempt.id)).scalars())


# --- Delivery --------------------------------------------------------------------------

def test_a_confirmation_arrives_signed_in_osdi_shape(hook_app, receiver):
    campaign = make_campaign(goal=100)
    endpoint, secret = add_endpoint(campaign, receiver.url("/crm?x=1"))
    assert secret.startswith("whsec_") and endpoint.secret == secret
    [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB", True)])
    assert drain().sent == 1
    [request] = receiver.requests
    assert request.path == "/crm?x=1" and request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["type"] == "signature.confirmed" == request.headers["Campaign-Event"]
    assert body["id"] == request.headers["Campaign-Event-Id"]
    assert body["idempotency_key"] == request.headers["Idempotency-Key"]
    assert body["petition"]["total_signatures"] == 1 and body["petition"]["title"] == campaign.title
    person = body["signature"]["person"]
    assert person["email_addresses"][0]["address"] == "ada@example.com"
    assert body["signature"]["status"] == "confirmed"
    assert body["signature"]["identifiers"] == [f"campaign-site:signature:{signature.id}"]
    header = request.headers["Campaign-Signature"]
    assert webhook_http.verify(secret, header, request.body)
    # A tampered body, another secret, an old timestamp: refused.
    assert not webhook_http.verify(secret, header, request.body.replace(b"ada@", b"eve@"))
    assert not webhook_http.verify("whsec_other", header, request.body)
    assert not webhook_http.verify(secret, header, request.body, now=float(header.split(",")[0][2:]) + 301)
    [attempt] = attempts()
    assert (attempt.status_code, attempt.attempt, attempt.event, attempt.response) == (200, 1, "signature.confirmed", "ok")
    assert webhooks.delivery_log(endpoint) == [attempt]
    [message] = deliveries(OutboxStatus.SENT)
    assert message.recipient == ""


def test_the_test_event_arrives_and_events_not_taken_are_not_sent(hook_app, receiver):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url(), events={"campaign.milestone"})
    confirmed_signatures(campaign, [("ada@example.com", "GB")])
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    [request] = receiver.requests
    assert request.json()["type"] == "ping" and request.json()["test"] is True
    assert len(deliveries()) == 1


def test_a_delivery_whose_endpoint_stopped_taking_the_event_is_skipped(hook_app, receiver):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url())
    other, _ = add_endpoint(campaign, receiver.url("/other"))
    confirmed_signatures(campaign, [("ada@example.com", "GB")])
    webhooks.update_endpoint(endpoint, url=endpoint.url, events={"campaign.milestone"}, active=True, description="")
    webhooks.update_endpoint(other, url=other.url, events=webhooks.EVENTS, active=False, description="")
    db.session.commit()
    drain()
    assert receiver.requests == []
    assert {m.last_error for m in deliveries(OutboxStatus.SKIPPED)} == {
        "endpoint no longer takes signature.confirmed", "endpoint deactivated"}


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "fd00::1"])
@pytest.mark.parametrize("named", [False, True])
def test_an_address_off_the_public_internet_is_refused_at_delivery(strict_app, receiver, monkeypatch, address,
                                                                   named):
    looked_up = []

    def resolver(host, port):
        looked_up.append(host)
        return ["93.184.216.34", address] if named else [address]
    monkeypatch.setattr(webhook_http, "resolve", resolver)
    campaign = make_campaign()
    host = "hooks.example.org" if named else (f"[{address}]" if ":" in address else address)
    # Created straight through the service: the form's check (url_problem) is not what stops it.
    endpoint, _ = add_endpoint(campaign, f"https://{host}:{receiver.port}/hook")
    webhooks.send_test_event(endpoint)
    db.session.commit()
    assert drain().failed == 1
    assert receiver.count == 0 and looked_up
    [(message, attempt)] = webhooks.dead_letters(db.session.get(type(endpoint), endpoint.id))
    assert "refused address" in message.last_error and address in attempt.error
    assert attempt.status_code is None


def test_a_receiver_answering_500_for_a_minute_still_gets_every_event_exactly_once(hook_app, receiver, clock):
    campaign = make_campaign()
    add_endpoint(campaign, receiver.url())
    failing_until = clock.now + dt.timedelta(minutes=1)
    receiver.answer(lambda request: 500 if clock.now < failing_until else 200)
    confirmed_signatures(campaign, [(f"s{n}@example.com", "GB") for n in range(5)])
    for _ in range(20):
        drain()
        if len(deliveries(OutboxStatus.SENT)) == 5:
            break
        clock.advance(seconds=30)
    assert len(deliveries(OutboxStatus.SENT)) == 5
    delivered = [request.headers["Idempotency-Key"] for request in receiver.answered(200)]
    assert len(delivered) == len(set(delivered)) == 5
    keys = {request.headers["Idempotency-Key"] for request in receiver.requests}
    assert keys == set(delivered)  # every retry carried the key of its first attempt
    assert {request.json()["signature"]["person"]["email_addresses"][0]["address"]
            for request in receiver.answered(200)} == {f"s{n}@example.com" for n in range(5)}
    assert max(a.attempt for a in attempts()) >= 2


def test_24_hours_of_failures_make_a_dead_letter_that_can_be_redelivered(hook_app, receiver, clock):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url())
    receiver.answer(503)
    receiver.body = b"down for maintenance"
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    clock.advance(hours=23)
    drain()
    assert deliveries(OutboxStatus.QUEUED)
    clock.advance(hours=1, minutes=1)
    drain()
    [(message, attempt)] = webhooks.dead_letters(endpoint)
    assert message.status == OutboxStatus.FAILED and attempt.status_code == 503
    assert attempt.response == "down for maintenance" and attempt.attempt == 3
    receiver.answer(200)
    assert webhooks.redeliver(endpoint, message.id) and not webhooks.redeliver(endpoint, message.id + 1)
    db.session.commit()
    assert drain().sent == 1
    assert [r.status for r in receiver.requests] == [503, 503, 503, 200]
    assert len({r.headers["Idempotency-Key"] for r in receiver.requests}) == 1
    assert webhooks.dead_letters(endpoint) == []


@pytest.mark.parametrize("status, outcome", [(301, OutboxStatus.FAILED), (302, OutboxStatus.FAILED),
                                             (404, OutboxStatus.FAILED), (410, OutboxStatus.FAILED),
                                             (408, OutboxStatus.QUEUED), (429, OutboxStatus.QUEUED),
                                             (500, OutboxStatus.QUEUED), (204, OutboxStatus.SENT)])
def test_each_answer_is_sent_retried_or_given_up(hook_app, receiver, status, outcome):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url())
    receiver.answer(status)
    receiver.location = receiver.url("/elsewhere")
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    [message] = deliveries()
    assert message.status == outcome
    assert [r.path for r in receiver.requests] == ["/hook"]  # no redirect followed
    if 300 <= status < 400:
        assert "redirect not followed" in message.last_error


def test_a_slow_receiver_times_out_and_is_tried_again(hook_app, receiver):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url())
    receiver.pause = 1.0  # the app waits 0.5 s
    webhooks.send_test_event(endpoint)
    db.session.commit()
    assert drain().retried == 1
    [attempt] = attempts()
    assert attempt.status_code is None and "timed out" in attempt.error and attempt.duration_ms < 1000


class _Dripping:
    """A far end that answers one byte every 0.1 s, for ever: each read
    gets a byte well within the socket's timeout."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 10_000:
                    if self.stopping.wait(0.1):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.listener.close()


def test_a_receiver_answering_a_byte_at_a_time_is_cut_off_at_the_timeout(hook_app):
    """Each byte comes well within the socket's timeout; the whole request
    still ends at WEBHOOK_TIMEOUT_SECONDS, so one endpoint cannot hold the
    worker (and every email behind it) for hours."""
    dripping = _Dripping()
    try:
        endpoint, _ = add_endpoint(make_campaign(), f"http://127.0.0.1:{dripping.port}/hook")
        webhooks.send_test_event(endpoint)
        db.session.commit()
        began = time.monotonic()
        assert drain().retried == 1
        assert time.monotonic() - began < 3
    finally:
        dripping.stop()
    [attempt] = attempts()
    assert attempt.status_code is None and "timed out" in attempt.error


def test_only_a_kilobyte_of_a_huge_answer_is_kept(hook_app, receiver):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url())
    receiver.answer(500)
    receiver.body = "é".encode() * 500_000
    webhooks.send_test_event(endpoint)
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    assert [len(a.response) for a in attempts()] == [1024, 1024]
    assert len(receiver.requests) == 2


# --- Events from their real actions ------------------------------------------------------

def types(receiver) -> list[str]:
    return [request.json()["type"] for request in receiver.requests]


def test_each_event_fires_from_its_action(hook_app, receiver):
    campaign = make_campaign(goal=2, milestone_emails=True)
    add_endpoint(campaign, receiver.url())
    ada, bob, cy = confirmed_signatures(campaign, [("ada@example.com", "GB", True), ("bob@example.com", "FR", True),
                                                   ("cy@example.com", "DE", True)])
    drain()
    assert types(receiver).count("signature.confirmed") == 3
    assert "campaign.milestone" in types(receiver)
    milestone = next(r.json() for r in receiver.requests if r.json()["type"] == "campaign.milestone")
    assert milestone["milestone"] == 2
    receiver.requests.clear()

    assert my_data.withdraw("ada@example.com", ada.id)
    batch = moderation.invalidate(campaign, moderation.Criteria(email="bob@example.com"), None, "spam")
    subscriptions.unsubscribe(db.session.get(Signature, cy.id))
    drain()
    assert types(receiver) == ["signature.withdrawn", "signature.invalidated", "supporter.unsubscribed"]
    bodies = [r.json() for r in receiver.requests]
    assert [b["signature"]["status"] for b in bodies] == ["withdrawn", "invalidated", "confirmed"]
    assert bodies[2]["signature"]["consents"]["email_updates"] is False
    receiver.requests.clear()

    moderation.undo_invalidation(db.session.get(type(batch), batch.id))
    campaigns.set_status(db.session.get(type(campaign), campaign.id), CampaignStatus.CLOSED)
    business = Business(campaign_id=campaign.id, organisation="Acme", organisation_key="acme",
                        website="https://acme.example", contact_email="a@acme.example", company_size="1-9",
                        confirmed_at=utcnow())
    db.session.add(business)
    db.session.commit()
    assert businesses.decide(business, BusinessStatus.APPROVED)
    assert businesses.decide(business, BusinessStatus.APPROVED)  # again: no second event
    drain()
    assert types(receiver) == ["signature.confirmed", "campaign.status_changed", "business.approved"]
    bodies = [r.json() for r in receiver.requests]
    assert bodies[0]["signature"]["identifiers"] == [f"campaign-site:signature:{bob.id}"]
    assert bodies[1]["status_change"] == {"from": "live", "to": "closed"}
    assert bodies[2]["business"]["organisation"] == "Acme"


def test_stopping_all_email_unsubscribes_from_each_campaign_signed(hook_app, receiver):
    one, two, three = make_campaign(), make_campaign(), make_campaign()
    for campaign in (one, two, three):
        add_endpoint(campaign, receiver.url(f"/{campaign.slug}"))
    [signature] = confirmed_signatures(one, [("ada@example.com", "GB", True)])
    confirmed_signatures(two, [("ada@example.com", "GB", True)])
    [third] = confirmed_signatures(three, [("ada@example.com", "GB", True)])
    # Stopping one campaign's updates from "Manage my data" first: that one is not unsubscribed again.
    assert my_data.change_consent("ada@example.com", third.id, "stop_updates")
    subscriptions.stop_all_email(signature)
    drain()
    unsubscribed = [r.path for r in receiver.requests if r.json()["type"] == "supporter.unsubscribed"]
    assert sorted(unsubscribed) == sorted(f"/{c.slug}" for c in (one, two, three))


def test_a_delivery_sent_after_an_erasure_carries_only_the_anonymised_signature(hook_app, receiver):
    campaign = make_campaign()
    add_endpoint(campaign, receiver.url())
    confirmed_signatures(campaign, [("ada@example.com", "GB")])
    assert my_data.erase("ada@example.com").signatures == 1
    drain()
    assert types(receiver) == ["signature.confirmed", "signature.erased"]
    for request in receiver.requests:
        assert b"ada@example.com" not in request.body and b"Sam" not in request.body
        assert request.json()["signature"]["person"]["email_addresses"][0]["address"] == ""


def test_an_erasure_tells_each_endpoint_that_takes_it_of_every_confirmed_signature(hook_app, receiver):
    """Whoever the site passed a signature to is told when its signer erases
    it: one signature.erased for each signature once confirmed (a pending one
    never left the site), to the endpoints that take the event."""
    one, two, three = make_campaign(), make_campaign(), make_campaign()
    add_endpoint(one, receiver.url("/one"))
    add_endpoint(one, receiver.url("/not-erasures"), events=("signature.confirmed",))
    add_endpoint(two, receiver.url("/two"))
    add_endpoint(three, receiver.url("/three"))
    [first] = confirmed_signatures(one, [("ada@example.com", "GB")])
    [second] = confirmed_signatures(two, [("Ada+two@example.com", "GB")])
    assert my_data.withdraw("ada@example.com", second.id)
    signing.sign(three, signing.Pledge("Ada", "Again", "ada@example.com", "GB", None, False, False))  # left pending
    db.session.commit()
    drain()
    receiver.requests.clear()

    assert my_data.erase("ada@example.com").signatures == 3
    drain()
    erased = sorted((r.path, r.json()["signature"]["identifiers"][0]) for r in receiver.requests)
    assert erased == [("/one", f"campaign-site:signature:{first.id}"), ("/two", f"campaign-site:signature:{second.id}")]
    assert all(r.json()["type"] == "signature.erased" for r in receiver.requests)
    assert all(b"ada@example.com" not in r.body and b"Again" not in r.body for r in receiver.requests)
    # Erasing again tells nobody anything more.
    receiver.requests.clear()
    assert my_data.erase("ada@example.com").signatures == 0
    drain()
    assert receiver.requests == []


def test_every_event_names_one_signature_with_an_id_of_its_own(hook_app, receiver):
    campaign = make_campaign()
    add_endpoint(campaign, receiver.url("/a"))
    add_endpoint(campaign, receiver.url("/b"))
    confirmed_signatures(campaign, [("ada@example.com", "GB"), ("bob@example.com", "GB")])
    moderation.invalidate(campaign, moderation.Criteria(email_domain="example.com"), None)
    drain()
    invalidated = [r for r in receiver.requests if r.json()["type"] == "signature.invalidated"]
    assert len(invalidated) == 4
    ids = {(r.path, r.json()["id"]) for r in invalidated}
    assert len({event_id for _, event_id in ids}) == 2  # one event per signature, the same at both endpoints
    assert len({r.headers["Idempotency-Key"] for r in invalidated}) == 4


# --- What confirming pays ---------------------------------------------------------------

def statements_of(work) -> int:
    seen = []

    def count(*args):
        seen.append(args[2])
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len([s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))])


@pytest.mark.parametrize("with_endpoint", [False, True])
def test_confirming_pays_at_most_one_statement_more(hook_app, receiver, monkeypatch, backend, with_endpoint):
    campaign = make_campaign()
    if with_endpoint:
        add_endpoint(campaign, receiver.url())
    for n in range(2):
        signing.sign(campaign, signing.Pledge("Sam", "Signer", f"s{n}@example.com", "GB", None, False, False))
    ids = db.session.execute(select(Signature.id).order_by(Signature.id)).scalars().all()
    choices = signing.Choices("Sam", "Signer", "GB", False, False)
    db.session.commit()
    with_webhooks = statements_of(lambda: signing.confirm(ids[0], choices))
    bare = dataclasses.replace(signing._CONFIRM, name="confirm without webhooks", then=signing._CONFIRM.then[:-1])
    monkeypatch.setattr(signing, "_CONFIRM", bare)
    without = statements_of(lambda: signing.confirm(ids[1], choices))
    assert with_webhooks - without == (0 if backend == "postgresql" else 1)
    if backend == "postgresql":
        assert with_webhooks == 1
    queued = db.session.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.kind == webhooks.KIND)).scalar_one()
    assert queued == (1 if with_endpoint else 0)


# --- The sweep -------------------------------------------------------------------------------

def test_the_sweep_forgets_old_deliveries_and_attempts(hook_app, receiver, clock, monkeypatch):
    campaign = make_campaign()
    endpoint, _ = add_endpoint(campaign, receiver.url())
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    clock.advance(days=hook_app.config["RETENTION_OUTBOX_DAYS"] + 1)
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    assert len(attempts()) == 2
    monkeypatch.setattr(retention, "clock", lambda: clock.now)
    report = retention.sweep()
    assert report.webhook_deliveries_forgotten == 2  # the old delivery and its attempt
    assert len(deliveries()) == 1 and len(attempts()) == 1


# --- Endpoints and their addresses ----------------------------------------------------------------

@pytest.mark.parametrize("url, message", [
    ("", "Enter the address"),
    ("hooks.example.org/x", "must start with https://"),
    ("ftp://hooks.example.org/x", "must start with https://"),
    ("http://hooks.example.org/x", "must use https://"),
    ("https://user:pw@hooks.example.org/x", "user name or password"),
    ("https:///x", "no host name"),
    ("https://hooks.example.org:99999/x", "not a valid web address"),
    ("https://hooks example.org/x", "spaces or control characters"),
    ("https://127.0.0.1/x", "private or local network"),
    ("https://10.0.0.1/x", "private or local network"),
    ("https://169.254.169.254/latest/meta-data", "private or local network"),
    ("https://[::1]/x", "private or local network"),
    ("https://[::ffff:10.0.0.1]/x", "private or local network"),
    ("https://localhost/x", "not on the public internet"),
    ("https://crm.internal/x", "not on the public internet"),
    ("https://bad_host!.example.org/", "host name is not valid"),
    ("https://hooks.example.org/" + "x" * 2000, "too long"),
])
def test_an_address_that_cannot_be_an_endpoint_is_explained(strict_app, url, message):
    with strict_app.test_request_context():
        assert message in webhooks.url_problem(url)


@pytest.mark.parametrize("url", ["https://hooks.example.org/x", "https://crm.example.org:8443/in?key=1",
                                 "https://93.184.216.34/hook", "https://bücher.example/hook"])
def test_a_public_https_address_is_accepted(strict_app, url):
    with strict_app.test_request_context():
        assert webhooks.url_problem(url) is None


def test_the_relaxation_cannot_be_set_outside_the_tests(tmp_path):
    config = {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}",
              "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True, "RATELIMIT_STORAGE_URI": "memory://", "WEB_WORKERS": 1}
    with pytest.raises(ConfigurationError, match="WEBHOOK_ALLOW_PRIVATE_ADDRESSES"):
        create_app(config)
    assert create_app({**config, "TESTING": True}).config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"]


def test_an_endpoint_is_created_rotated_and_deleted_with_its_deliveries(hook_app, receiver):
    campaign = make_campaign()
    organiser = make_organiser(campaigns=[campaign])
    endpoint, secret = webhooks.create_endpoint(campaign, " " + receiver.url() + " ",
                                                {"signature.confirmed", "nonsense"}, organiser, "CRM")
    db.session.commit()
    assert endpoint.url == receiver.url() and endpoint.events == " signature.confirmed "
    assert webhooks.events_of(endpoint) == ["signature.confirmed"] and endpoint.created_by_id == organiser.id
    rotated = webhooks.new_secret(endpoint)
    assert rotated != secret and endpoint.secret == rotated
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    [request] = receiver.requests
    assert webhook_http.verify(rotated, request.headers["Campaign-Signature"], request.body)
    assert webhooks.endpoints_of(campaign) == [endpoint]
    webhooks.delete_endpoint(endpoint)
    db.session.commit()
    assert webhooks.endpoints_of(campaign) == [] and deliveries() == [] and attempts() == []
    assert json.loads(request.body)["petition"]["identifiers"] == [f"campaign-site:petition:{campaign.id}"]


@pytest.mark.parametrize("address, public", [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("224.0.0.1", False), ("0.0.0.0", False),
    ("240.0.0.1", False), ("::1", False), ("::", False), ("fe80::1", False), ("fc00::1", False),
    ("::ffff:169.254.169.254", False), ("64:ff9b::a00:1", False), ("2002:a00:1::", False), ("ff02::1", False),
])
def test_which_addresses_are_public(address, public):
    assert webhook_http.is_public(address) is public


def test_the_documented_verification_accepts_a_delivery_and_refuses_a_tampered_one(hook_app, receiver):
    import html
    import re
    from pathlib import Path
    template = (Path(__file__).resolve().parent.parent / "templates/api/_webhooks.html").read_text()
    snippet = html.unescape(re.search(r"<code>(import hashlib.*?)</code>", template, re.S).group(1))
    documented = {}
    exec(snippet.split("# In your handler")[0], documented)
    campaign = make_campaign()
    endpoint, secret = add_endpoint(campaign, receiver.url())
    webhooks.send_test_event(endpoint)
    db.session.commit()
    drain()
    [request] = receiver.requests
    header = request.headers["Campaign-Signature"]
    assert documented["verify"](secret, header, request.body)
    assert not documented["verify"](secret, header, request.body + b" ")
