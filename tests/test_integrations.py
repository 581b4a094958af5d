"""The organisers' Integrations screens: API keys (created for campaigns one
manages, the token shown once, revoked after a page that asks first, never
seen by another organiser) and a campaign's webhook endpoints (added with
the secret shown once, changed, paused, tested, given a new secret, deleted,
their delivery log and their dead letters redelivered). Every field's bad
input gets its message and loses nothing; each change is audited."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from campaign import api_keys, webhooks
from campaign.extensions import db
from campaign.models import (
    ApiKey,
    AuditEvent,
    OutboxMessage,
    OutboxStatus,
    WebhookAttempt,
    WebhookEndpoint,
    utcnow,
)

from .builders import csrf_token, log_in, make_campaign, make_organiser

KEYS = "/organiser/api-keys"
HOOK = "https://crm.example.org/hooks/campaign"


def two_campaigns(outsider: bool = True) -> dict:
    """A campaign with its member; another campaign (with its own member)."""
    ours = make_campaign(title="Ours: the ad pause")
    theirs = make_campaign(title="Theirs: a secret pledge")
    member = make_organiser("member@example.com", campaigns=[ours])
    if outsider:
        make_organiser("outsider@example.com", campaigns=[theirs])
    return {"ours": ours, "theirs": theirs, "member": member}


@pytest.fixture
def world(ctx, client):
    """Two campaigns, the member of ours logged in. (One client per test
    here: in the test's own app context, requests share ``g``, where
    Flask-Login keeps the user of the first.)"""
    world = two_campaigns(outsider=False)
    assert log_in(client, "member@example.com").status_code == 303
    return {**world, "token": csrf_token(client.get(KEYS).get_data(as_text=True))}


def logged_in(app, email):
    other = app.test_client()
    assert log_in(other, email).status_code == 303
    return other, csrf_token(other.get(KEYS).get_data(as_text=True))


def errors_of(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary on the page"
    return [unescape(m) for m in re.findall(r'<li><a href="#[\w-]+">(.*?)</a></li>', summary.group(0))]


def audited(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def new_key(client, world, **changes):
    data = {"name": "Our CRM", "campaigns": [str(world["ours"].id)], "permissions": ["read_counts", "read_signers"],
            "csrf_token": world["token"]}
    data.update(changes)
    return client.post(KEYS, data=data)


def token_on(html: str) -> str:
    match = re.search(r'id="api-token" type="text" class="secret-key" value="([^"]+)"', html)
    assert match, "no token on the page"
    return match.group(1)


def secret_on(html: str) -> str:
    match = re.search(r'id="webhook-secret" type="text" class="secret-key" value="([^"]+)"', html)
    assert match, "no secret on the page"
    return match.group(1)


# --- API keys -----------------------------------------------------------------------

def test_an_organiser_creates_a_key_and_sees_its_token_once(world, client):
    """The token is on the page that answers the POST (not stored, not in a
    cookie or a URL), with how to send it; the list shows the key's name
    and prefix, never the token again."""
    response = new_key(client, world)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    token = token_on(html)
    assert "This is the only time the key is shown." in html
    assert f"OSDI-API-Token: {token}" in html and f"Authorization: Bearer {token}" in html
    assert 'href="/api/v1/docs"' in html
    assert "Set-Cookie" not in response.headers or token not in str(response.headers)
    with client.session_transaction() as session:
        assert token not in repr(dict(session))

    key = api_keys.authenticate(token)
    assert key is not None and key.name == "Our CRM" and [c.id for c in key.campaigns] == [world["ours"].id]
    assert set(key.permissions.split()) == {"read_counts", "read_signers"}
    assert key.token_hash != token and token not in key.token_hash

    listing = client.get(KEYS).get_data(as_text=True)
    assert token not in listing and key.prefix in listing and "Our CRM" in listing
    assert "personal data" in listing and "Never" in listing
    [event] = audited("api_key.created")
    assert event.detail == {"api_key": key.id, "campaigns": [world["ours"].id],
                            "permissions": ["read_counts", "read_signers"]}


def test_a_key_may_reach_only_campaigns_the_organiser_manages(world, client):
    """The form lists one's own campaigns; another's id, posted anyway, is refused."""
    page = client.get(KEYS).get_data(as_text=True)
    assert world["ours"].title in page and world["theirs"].title not in page
    response = new_key(client, world, campaigns=[str(world["ours"].id), str(world["theirs"].id)])
    assert response.status_code == 422
    assert errors_of(response.get_data(as_text=True)) == ["Choose among the campaigns listed"]
    assert count(ApiKey) == 0


@pytest.mark.parametrize("changes, message", [
    ({"name": ""}, "Enter a name for the key"),
    ({"name": "   "}, "Enter a name for the key"),
    ({"name": "x" * 101}, "The name must be 100 characters or fewer"),
    ({"name": "Our\x07CRM"}, "Name contains characters we cannot accept"),
    ({"campaigns": []}, "Choose at least one campaign the key may use"),
    ({"campaigns": ["not-a-number"]}, "Choose among the campaigns listed"),
    ({"campaigns": ["999999"]}, "Choose among the campaigns listed"),
    ({"permissions": []}, "Choose at least one permission"),
    ({"permissions": ["admin"]}, "Choose among the permissions listed"),
    ({"permissions": ["confirm_signatures"]},
     "Recording signatures as confirmed needs the permission to write signatures too"),
], ids=["no-name", "blank-name", "name-too-long", "control-character", "no-campaign", "campaign-not-a-number",
        "unknown-campaign", "no-permission", "unknown-permission", "confirm-without-write"])
def test_a_bad_key_form_says_what_is_wrong_and_keeps_what_was_typed(world, client, changes, message):
    """422, the one message in the summary, no key, and the other answers still there."""
    response = new_key(client, world, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_of(html) == [message]
    assert count(ApiKey) == 0 and not audited("api_key.created")
    if "name" not in changes:
        assert 'value="Our CRM"' in html
    if "permissions" not in changes:
        assert re.search(r'value="read_signers"[^>]*checked|checked[^>]*value="read_signers"', html)


def test_revoking_asks_first_then_the_key_stops_working(world, client):
    """A page that says what it does; its button revokes (401 from then on),
    audited; the list says when. Revoking again changes nothing."""
    token = token_on(new_key(client, world).get_data(as_text=True))
    key_id = api_keys.authenticate(token).id
    page = client.get(f"{KEYS}/{key_id}/revoke")
    assert page.status_code == 200 and ">Revoke the key</button>" in page.get_data(as_text=True)
    assert api_keys.authenticate(token) is not None

    assert client.post(f"{KEYS}/{key_id}/revoke", data={"csrf_token": world["token"]}).status_code == 400
    response = client.post(f"{KEYS}/{key_id}/revoke", data={"csrf_token": world["token"], "action": "revoke"})
    assert response.status_code == 303 and response.headers["Location"].endswith(KEYS)
    db.session.expire_all()
    assert api_keys.authenticate(token) is None
    assert "Revoked on" in client.get(KEYS).get_data(as_text=True)
    client.post(f"{KEYS}/{key_id}/revoke", data={"csrf_token": world["token"], "action": "revoke"})
    assert [event.detail for event in audited("api_key.revoked")] == [{"api_key": key_id}]
    assert client.get(f"{KEYS}/{key_id}/revoke").status_code == 303


@pytest.mark.parametrize("email, is_admin", [("outsider@example.com", False), ("admin@example.com", True)],
                         ids=["another-organiser", "an-admin"])
def test_nobody_else_sees_or_revokes_an_organisers_key(app, email, is_admin):
    """Another organiser, an admin too, gets 404 for the key's pages and
    does not see it in their list."""
    with app.app_context():
        world = two_campaigns()
        if is_admin:
            make_organiser(email, is_admin=True)
        key, token = api_keys.create_key(world["member"], "The member's sync", [world["ours"]], {"read_counts"})
        db.session.commit()
        key_id = key.id
    other, other_token = logged_in(app, email)
    listing = other.get(KEYS).get_data(as_text=True)
    assert "member&#39;s sync" not in listing and token[:10] not in listing
    assert other.get(f"{KEYS}/{key_id}/revoke").status_code == 404
    refused = other.post(f"{KEYS}/{key_id}/revoke", data={"csrf_token": other_token, "action": "revoke"})
    assert refused.status_code == 404
    with app.app_context():
        assert api_keys.authenticate(token) is not None


# --- Webhooks ---------------------------------------------------------------------------

def hooks_of(world) -> str:
    return f"/organiser/c/{world['ours'].slug}/webhooks"


def add_endpoint(client, world, **changes):
    data = {"url": HOOK, "events": ["signature.confirmed", "campaign.milestone"], "description": "Our CRM",
            "csrf_token": world["token"]}
    data.update(changes)
    return client.post(hooks_of(world), data=data)


def the_endpoint() -> WebhookEndpoint:
    db.session.expire_all()
    return db.session.execute(select(WebhookEndpoint)).scalar_one()


def test_an_organiser_adds_an_endpoint_and_sees_its_secret_once(world, client):
    """The secret is on the page that answers the POST; the list and the
    endpoint's page never show it again."""
    assert client.get(hooks_of(world)).status_code == 200
    response = add_endpoint(client, world)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    secret = secret_on(html)
    endpoint = the_endpoint()
    assert endpoint.secret == secret and endpoint.url == HOOK and endpoint.active
    assert webhooks.events_of(endpoint) == ["signature.confirmed", "campaign.milestone"]
    assert "This is the only time the secret is shown." in html and 'href="/api/v1/docs"' in html

    listing = client.get(hooks_of(world)).get_data(as_text=True)
    page = client.get(f"{hooks_of(world)}/{endpoint.id}").get_data(as_text=True)
    assert HOOK in listing and "A signature is confirmed" in listing and "None yet" in listing
    assert secret not in listing and secret not in page
    [event] = audited("webhook.created")
    assert event.campaign_id == world["ours"].id
    assert event.detail == {"endpoint": endpoint.id, "events": ["campaign.milestone", "signature.confirmed"]}


@pytest.mark.parametrize("changes, message", [
    ({"url": ""}, "Enter the address the events should be sent to"),
    ({"url": "http://crm.example.org/hooks"},
     "The address must use https:// so that the events cannot be read on the way."),
    ({"url": "crm.example.org/hooks"}, "The address must start with https://."),
    ({"url": "not a url"}, "An address cannot contain spaces or control characters."),
    ({"url": "ftp://crm.example.org/hooks"}, "The address must start with https://."),
    ({"url": "https://user:secret@crm.example.org/hooks"},
     "Do not put a user name or password in the address: each delivery is signed instead."),
    ({"url": "https://10.0.0.1/hooks"},
     "That address is on a private or local network: events can only be sent to the public internet."),
    ({"url": "https://127.0.0.1/hooks"},
     "That address is on a private or local network: events can only be sent to the public internet."),
    ({"url": "https://169.254.169.254/latest/meta-data"},
     "That address is on a private or local network: events can only be sent to the public internet."),
    ({"url": "https://[::1]/hooks"},
     "That address is on a private or local network: events can only be sent to the public internet."),
    ({"url": "https://localhost/hooks"},
     "That host name is not on the public internet: events can only be sent there."),
    ({"url": HOOK + "/" + "a" * 2000}, "That address is too long: at most 2000 characters."),
    ({"events": []}, "Choose at least one event"),
    ({"events": ["signature.deleted"]}, "Choose among the events listed"),
    ({"description": "x" * 201}, "The description must be 200 characters or fewer"),
    ({"description": "Our\x00CRM"}, "Description contains characters we cannot accept"),
], ids=["no-url", "plain-http", "no-scheme", "not-a-url", "ftp", "credentials", "private-ip", "loopback",
        "metadata", "ipv6-loopback", "localhost", "url-too-long", "no-event", "unknown-event",
        "description-too-long", "description-control-character"])
def test_a_bad_endpoint_form_says_what_is_wrong_and_keeps_what_was_typed(world, client, app, changes, message):
    """422 with the one message (the URL's from webhooks.url_problem), no
    endpoint, and the other answers still there."""
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = False
    response = add_endpoint(client, world, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_of(html) == [message]
    assert count(WebhookEndpoint) == 0 and not audited("webhook.created")
    if "description" not in changes:
        assert 'value="Our CRM"' in html
    if "events" not in changes:
        assert re.search(r'checked[^>]*value="campaign.milestone"|value="campaign.milestone"[^>]*checked', html)


def test_an_endpoint_is_changed_paused_and_resumed(world, client):
    """The edit form saves what changed (audited with the field names); the
    Deactivate and Activate buttons switch it."""
    add_endpoint(client, world)
    endpoint_id = the_endpoint().id
    page = f"{hooks_of(world)}/{endpoint_id}"
    form = client.get(page).get_data(as_text=True)
    assert 'value="https://crm.example.org/hooks/campaign"' in form and ">Send a test event</button>" in form
    response = client.post(page, data={"url": HOOK + "/v2", "events": ["signature.withdrawn"],
                                       "description": "Our CRM", "active": "y", "csrf_token": world["token"]})
    assert response.status_code == 303
    endpoint = the_endpoint()
    assert endpoint.url == HOOK + "/v2" and webhooks.events_of(endpoint) == ["signature.withdrawn"]
    [changed] = audited("webhook.changed")
    assert changed.detail == {"endpoint": endpoint_id, "fields": ["url", "events"]}

    bad = client.post(page, data={"url": "https://10.0.0.1/", "events": ["signature.withdrawn"],
                                  "csrf_token": world["token"]})
    assert bad.status_code == 422 and the_endpoint().url == HOOK + "/v2"

    client.post(f"{page}/active", data={"action": "off", "csrf_token": world["token"]})
    assert not the_endpoint().active
    assert ">Activate</button>" in client.get(page).get_data(as_text=True)
    client.post(f"{page}/active", data={"action": "on", "csrf_token": world["token"]})
    assert the_endpoint().active
    assert [e.detail["fields"] for e in audited("webhook.changed")] == [["url", "events"], ["active"], ["active"]]


def test_a_test_event_is_queued_for_the_endpoint(world, client):
    """"Send a test event" queues a ping to this endpoint, audited."""
    add_endpoint(client, world)
    endpoint_id = the_endpoint().id
    response = client.post(f"{hooks_of(world)}/{endpoint_id}/test", data={"action": "test", "csrf_token": world["token"]})
    assert response.status_code == 303
    [message] = db.session.execute(select(OutboxMessage)).scalars()
    assert message.webhook_endpoint_id == endpoint_id and webhooks.event_of(message) == "ping"
    assert message.status == OutboxStatus.QUEUED
    assert len(audited("webhook.test_sent")) == 1


def test_a_new_secret_is_shown_once_and_replaces_the_old(world, client):
    """The new secret is on the answer to the POST, stored, never shown again."""
    old = secret_on(add_endpoint(client, world).get_data(as_text=True))
    endpoint_id = the_endpoint().id
    response = client.post(f"{hooks_of(world)}/{endpoint_id}/secret", data={"action": "rotate",
                                                                           "csrf_token": world["token"]})
    assert response.status_code == 200
    new = secret_on(response.get_data(as_text=True))
    assert new != old and the_endpoint().secret == new
    assert new not in client.get(f"{hooks_of(world)}/{endpoint_id}").get_data(as_text=True)
    assert len(audited("webhook.secret_rotated")) == 1


def test_deleting_an_endpoint_asks_first(world, client):
    """A page that asks; its button deletes the endpoint, audited."""
    add_endpoint(client, world)
    endpoint_id = the_endpoint().id
    delete = f"{hooks_of(world)}/{endpoint_id}/delete"
    assert ">Delete the endpoint</button>" in client.get(delete).get_data(as_text=True)
    assert client.post(delete, data={"csrf_token": world["token"]}).status_code == 400
    response = client.post(delete, data={"action": "delete", "csrf_token": world["token"]})
    assert response.status_code == 303 and response.headers["Location"].endswith(hooks_of(world))
    assert count(WebhookEndpoint) == 0
    assert [e.detail for e in audited("webhook.deleted")] == [{"endpoint": endpoint_id}]


def _dead_letter(endpoint_id: int, response_body: str, status: int = 500) -> int:
    """A delivery given up on, with its last attempt, as the worker leaves it."""
    message = OutboxMessage(kind=webhooks.KIND, recipient="", status=OutboxStatus.FAILED, attempts=3,
                            webhook_endpoint_id=endpoint_id,
                            headers={"event": "signature.confirmed", "id": "e1", "at": "2026-01-01T00:00:00Z",
                                     "data": {}})
    db.session.add(message)
    db.session.flush()
    db.session.add_all([
        WebhookAttempt(endpoint_id=endpoint_id, message_id=message.id, event="signature.confirmed", attempt=n,
                       status_code=status, duration_ms=40 + n, response=response_body, created_at=utcnow())
        for n in (1, 2, 3)])
    db.session.commit()
    return message.id


def test_the_log_and_dead_letters_show_what_the_receiver_answered_as_text(world, client):
    """Each attempt with its status and duration; a dead letter with the
    receiver's answer escaped (it comes from a stranger's server), and a
    Redeliver button that queues it again, audited, once."""
    add_endpoint(client, world)
    endpoint_id = the_endpoint().id
    message_id = _dead_letter(endpoint_id, '<script>alert("owned")</script><img src=x onerror=alert(1)>')
    page = f"{hooks_of(world)}/{endpoint_id}"
    html = client.get(page).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;" in html
    assert html.count("HTTP 500") >= 4 and ">43</td>" in html
    assert "1 event waiting to be redelivered" in client.get(hooks_of(world)).get_data(as_text=True)

    response = client.post(f"{page}/redeliver", data={"message": str(message_id), "csrf_token": world["token"]})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.QUEUED
    assert [e.detail for e in audited("webhook.redelivered")] == [{"endpoint": endpoint_id, "message": message_id}]
    client.post(f"{page}/redeliver", data={"message": str(message_id), "csrf_token": world["token"]})
    assert len(audited("webhook.redelivered")) == 1
    assert "That event is no longer waiting to be redelivered." in client.get(page).get_data(as_text=True)


@pytest.mark.parametrize("message", ["", "abc", "-1", "9" * 30], ids=["empty", "not-a-number", "negative", "huge"])
def test_a_redeliver_button_tampered_with_is_refused(world, client, message):
    """400, and nothing changes."""
    add_endpoint(client, world)
    endpoint_id = the_endpoint().id
    response = client.post(f"{hooks_of(world)}/{endpoint_id}/redeliver",
                           data={"message": message, "csrf_token": world["token"]})
    assert response.status_code == 400 and not audited("webhook.redelivered")


def test_another_campaigns_organiser_and_endpoint_are_404(app):
    """The outsider gets 404 for this campaign's webhooks; an endpoint of
    another campaign is 404 under this campaign's address, and its dead
    letter is not redelivered through an endpoint of this one."""
    with app.app_context():
        world = two_campaigns()
        ours = webhooks.create_endpoint(world["ours"], HOOK, {"signature.confirmed"}, world["member"])[0].id
        theirs = webhooks.create_endpoint(world["theirs"], HOOK, {"signature.confirmed"}, None)[0].id
        db.session.commit()
        dead = _dead_letter(theirs, "nope")
        hooks = hooks_of(world)
    outsider, token = logged_in(app, "outsider@example.com")
    for path in (hooks, f"{hooks}/{ours}", f"{hooks}/{ours}/delete"):
        assert outsider.get(path).status_code == 404
        assert outsider.post(path, data={"csrf_token": token, "action": "delete"}).status_code == 404
    for path in (f"{hooks}/{ours}/test", f"{hooks}/{ours}/secret", f"{hooks}/{ours}/active"):
        assert outsider.post(path, data={"csrf_token": token, "action": "test"}).status_code == 404
    member, token = logged_in(app, "member@example.com")
    for path in (f"{hooks}/{theirs}", f"{hooks}/{theirs}/delete"):
        assert member.get(path).status_code == 404
    refused = member.post(f"{hooks}/{theirs}/redeliver", data={"message": str(dead), "csrf_token": token})
    assert refused.status_code == 404
    member.post(f"{hooks}/{ours}/redeliver", data={"message": str(dead), "csrf_token": token})
    with app.app_context():
        assert count(WebhookEndpoint) == 2 and count(OutboxMessage) == 1
        assert db.session.get(OutboxMessage, dead).status == OutboxStatus.FAILED
        assert not audited("webhook.redelivered") and not audited("webhook.secret_rotated")


@pytest.mark.parametrize("path", [f"{KEYS}/99999999999999999999/revoke", f"{KEYS}/0/revoke",
                                  "/organiser/c/{slug}/webhooks/99999999999999999999",
                                  "/organiser/c/{slug}/webhooks/99999999999999999999/delete"],
                         ids=["huge-key", "no-key", "huge-endpoint", "huge-endpoint-delete"])
def test_an_address_of_nothing_is_404(world, client, path):
    """Ids that cannot be (out of range for the database too) are plain 404s, never 500s."""
    assert client.get(path.format(slug=world["ours"].slug)).status_code == 404
