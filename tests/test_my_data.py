""""Manage my data", told as a supporter and as someone who is not them.

Jane asks for a link with her address and gets one by email; a stranger
typing her address, or any made-up one, sees the very same page, gets
nothing for an address we do not hold, and however often they ask sends
Jane a link now and then, never a flood, and never locks her out. Behind
the link Jane sees and downloads everything (the emails we sent her
included, never their text), changes her choices, withdraws a signature
(the count drops at once, once however often she presses) and erases
everything: nothing of her stays in any table, her anonymised signature
still counts, and no email reaches her again but the one that says so.
The link works for 24 hours, is refused forged or made for anything else,
and its pages are never cached and leak no Referer."""
from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, insert, select

from campaign import (
    broadcasts,
    counts,
    exports,
    http_cache,
    identity,
    moderation,
    my_data,
    outbox,
    privacy_mail,
    questions,
    retention,
    signing,
    subscriptions,
    tokens,
)
from campaign.extensions import db
from campaign.models import (
    Business,
    Campaign,
    ErasedMailbox,
    Kind,
    MailboxAllowance,
    Organiser,
    OutboxMessage,
    OutboxStatus,
    PrivacyEvent,
    PrivacyLink,
    Signature,
    SignatureStatus,
    Suppression,
    utcnow,
)

from .builders import (
    confirm,
    confirm_link,
    confirm_signature,
    confirmed_signatures,
    csrf_token,
    fan_out_all,
    make_campaign,
    make_organiser,
    personal_traces,
    sign,
)

LINK = re.compile(r"https?://[^/\s]+(/my-data/[\w.-]+)")
LINK_SUBJECT = "Your link to the data"
ERASED_SUBJECT = "Your data was erased"
SITE = "http://campaigns.test"


@pytest.fixture
def clock(monkeypatch):
    """Sets the time links are made and measured by (naive UTC), as
    tests/test_retention.py sets the sweep's."""
    def set_to(moment: dt.datetime) -> None:
        monkeypatch.setattr(privacy_mail, "clock", lambda: moment)
    return set_to


# --- Steps -------------------------------------------------------------------------------

def ask(client, email: str, ip: str = "192.0.2.10"):
    """Open /my-data, type an address, press the button."""
    page = client.get("/my-data")
    return client.post("/my-data", data={"email": email, "csrf_token": csrf_token(page.get_data(as_text=True))},
                       environ_base={"REMOTE_ADDR": ip})


def link_emails(smtp, address: str) -> list:
    return [m for m in smtp.to(address) if m.subject.startswith(LINK_SUBJECT)]


def link_in(message) -> str:
    """The /my-data/<token> path of a link email, as its reader finds it."""
    match = LINK.search(message.text)
    assert match, f"no link in the email:\n{message.text}"
    return match.group(1)


def link_for(client, smtp, deliver, address: str) -> str:
    """Ask, receive, and return the path of the newest link."""
    smtp.reset()
    ask(client, address)
    deliver()
    [message] = link_emails(smtp, address)
    return link_in(message)


def act(client, path: str, action: str, **data):
    """On the page behind the link, press a button that posts to ``action``."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(f"{path}/{action}", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data})


def signature_of(email: str, campaign_id: int) -> Signature:
    db.session.expire_all()
    return db.session.execute(select(Signature).where(
        Signature.campaign_id == campaign_id,
        Signature.email_normalised == identity.normalise_email(email),
        Signature.status.in_(["pending", "confirmed"]))).scalar_one()


def signed_and_confirmed(campaign, email: str, given_name: str = "Jane", **choices) -> int:
    """A confirmed signature through the services; its id."""
    signing.sign(campaign, signing.Pledge(given_name, "Doe", email, "GB", None, choices.get("email_opt_in", False),
                                          choices.get("show_name", False)))
    signature = signature_of(email, campaign.id)
    confirm_signature(signature)
    return signature.id


def public_count(client, slug: str) -> int:
    return client.get(f"/c/{slug}/count.json").get_json()["signatures"]


def events() -> list[tuple[str, int | None]]:
    return [(e.action, e.campaign_id) for e in db.session.execute(
        select(PrivacyEvent).order_by(PrivacyEvent.id)).scalars()]


# --- Asking for a link ---------------------------------------------------------------------

def test_the_answer_is_the_same_whether_or_not_we_hold_anything(app, client, smtp, deliver):
    """Known and unknown addresses get the same page, status and headers;
    only the known one gets an email, and the unknown one leaves no trace."""
    with app.app_context():
        signed_and_confirmed(make_campaign(slug="known"), "jane@example.net")
    smtp.reset()
    known = ask(client, "jane@example.net")
    unknown = ask(client, "nobody@example.net")

    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace("jane@", "X@") == unknown.get_data(as_text=True).replace(
        "nobody@", "X@")
    for header in ("Cache-Control", "Content-Type", "Referrer-Policy"):
        assert known.headers[header] == unknown.headers[header]
    assert "Set-Cookie" not in known.headers and "Set-Cookie" not in unknown.headers
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == privacy_mail.MY_DATA_LINK)) == 2, "each answer queued the same one row"

    deliver()
    assert len(link_emails(smtp, "jane@example.net")) == 1
    assert smtp.to("nobody@example.net") == []
    with app.app_context():
        traces = [row for row in db.session.execute(select(OutboxMessage.recipient, OutboxMessage.status,
                                                           OutboxMessage.last_error)).all()
                  if "nobody" in row.recipient]
        assert traces == [], "a request for an address we do not hold is forgotten once handled"
        assert [e for e, _ in events()] == ["link_requested"], "nothing is recorded of the stranger's address"


def test_the_link_goes_to_an_address_we_hold_not_to_what_was_typed(app, client, smtp, deliver):
    """The canonical mailbox drops a +tag whatever the domain; where a
    domain reads + otherwise, what was typed may be someone else's inbox."""
    with app.app_context():
        signed_and_confirmed(make_campaign(), "Jane+petitions@corp.example")
    smtp.reset()
    ask(client, "jane+mallory@corp.example")
    deliver()
    assert smtp.to("jane+mallory@corp.example") == []
    [message] = link_emails(smtp, "Jane+petitions@corp.example")
    assert message.to == "Jane+petitions@corp.example"


def test_plus_tag_variants_share_one_link_allowance(app, client, smtp, deliver):
    """Four ways of writing one mailbox, asked one after the other: one link."""
    with app.app_context():
        signed_and_confirmed(make_campaign(), "jane@example.net")
        signed_and_confirmed(make_campaign(), "d.o.e@gmail.com")
    smtp.reset()
    for variant in ("jane@example.net", "jane+1@example.net", "Jane+2@Example.net", "JANE@EXAMPLE.NET"):
        ask(client, variant)
    for variant in ("d.o.e@gmail.com", "doe@gmail.com", "D.O.E+x@googlemail.com"):
        ask(client, variant)
    deliver()
    assert len([m for m in smtp.received if m.subject.startswith(LINK_SUBJECT)]) == 2
    assert len(link_emails(smtp, "jane@example.net")) == 1
    assert len(link_emails(smtp, "d.o.e@gmail.com")) == 1


def test_a_strangers_repeated_requests_neither_flood_nor_lock_out(app, client, smtp, deliver, clock):
    """Six requests from six addresses in a minute: one email. The owner,
    minutes later, gets a link of their own; each link works."""
    with app.app_context():
        signed_and_confirmed(make_campaign(), "jane@example.net")
    smtp.reset()
    now = utcnow()
    clock(now)
    for n in range(6):
        assert ask(client, "jane+x@example.net", ip=f"198.51.100.{n}").status_code == 200
    deliver()
    first = link_emails(smtp, "jane@example.net")
    assert len(first) == 1
    with app.app_context():
        assert db.session.get(MailboxAllowance, "jane@example.net").hour_sent == 1, \
            "counted against the mailbox's allowance of emails it did not ask for"

    later = now + dt.timedelta(minutes=app.config["PRIVACY_LINK_MINUTES"], seconds=1)
    clock(later)
    ask(client, "jane@example.net")
    deliver()
    both = link_emails(smtp, "jane@example.net")
    assert len(both) == 2
    for message in both:
        assert client.get(link_in(message)).status_code == 200


def test_a_link_reaches_a_mailbox_that_stopped_all_email_but_never_an_erased_one(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign()
        signature_id = signed_and_confirmed(campaign, "stopped@example.net")
        subscriptions.stop_all_email(db.session.get(Signature, signature_id))
        signed_and_confirmed(campaign, "gone@example.net")
        db.session.add(ErasedMailbox(mailbox_hash=identity.mailbox_hash("gone@example.net")))
        db.session.commit()
    smtp.reset()
    ask(client, "stopped@example.net")
    ask(client, "gone@example.net")
    deliver()
    assert len(link_emails(smtp, "stopped@example.net")) == 1
    assert smtp.to("gone@example.net") == []


def test_asking_is_limited_per_client_address(app_with):
    client = app_with(RATELIMIT_ENABLED=True, RATELIMIT_MY_DATA="3 per minute",
                      RATELIMIT_STORAGE_URI="memory://").test_client()
    answers = [ask(client, f"someone{n}@example.net").status_code for n in range(4)]
    assert answers == [200, 200, 200, 429]
    assert ask(client, "owner@example.net", ip="203.0.113.7").status_code == 200, "another client is not held up"


EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


@pytest.mark.parametrize("typed, status, message", [
    pytest.param("", 422, "Enter your email address", id="blank"),
    pytest.param("   ", 422, "Enter your email address", id="spaces"),
    pytest.param("not an address", 422, EMAIL_FORMAT, id="not-an-address"),
    pytest.param("jane@", 422, EMAIL_FORMAT, id="no-domain"),
    pytest.param("a" * 250 + "@example.net", 422, EMAIL_FORMAT, id="overlong"),
    pytest.param("jane@example.net\r\nBcc: everyone@example.org", 422, EMAIL_FORMAT, id="header-injection"),
    pytest.param("jane@example.net\nSubject: hi", 422, EMAIL_FORMAT, id="newline"),
    pytest.param("<script>@example.net", 422, EMAIL_FORMAT, id="markup"),
    pytest.param("x" * (1024 * 1024), 413, "That was too large", id="one-megabyte"),
])
def test_a_bad_address_gets_its_message_and_queues_nothing(app, client, typed, status, message):
    answer = ask(client, typed)
    assert answer.status_code == status
    body = answer.get_data(as_text=True)
    assert message in body
    if status == 422:
        assert 'aria-invalid="true"' in body and "There is a problem" in body
    assert "<script>@" not in body
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}])
def test_a_request_from_another_site_is_refused(app, client, headers):
    page = client.get("/my-data")
    answer = client.post("/my-data", headers=headers, data={
        "email": "jane@example.net", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("headers, status", [
    pytest.param({"Sec-Fetch-Site": "same-origin"}, 303, id="our-own-page"),
    pytest.param({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, 400, id="an-opaque-origin"),
    pytest.param({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, 400, id="another-site-saying-null"),
    pytest.param({"Origin": "null", "Sec-Fetch-Site": ""}, 400, id="null-and-nothing-else"),
    pytest.param({"Origin": "https://evil.example"}, 400, id="another-site"),
])
def test_the_pages_forms_are_checked_for_where_they_come_from(app, client, smtp, deliver, headers, status):
    """The page's own forms say they come from this site; a sandboxed
    frame or a page with no origin (`Origin: null`) is refused, as another
    site is."""
    with app.app_context():
        signature_id = signed_and_confirmed(make_campaign(), "jane@example.net", email_opt_in=True)
    path = link_for(client, smtp, deliver, "jane@example.net")
    token = csrf_token(client.get(path).get_data(as_text=True))
    answer = client.post(f"{path}/consents", headers=headers, data={
        "csrf_token": token, "signature": str(signature_id), "change": "stop_updates"})
    assert answer.status_code == status
    with app.app_context():
        assert (db.session.get(Signature, signature_id).unsubscribed_at is not None) == (status == 303)


# --- The link -----------------------------------------------------------------------------

def test_a_link_works_for_24_hours(app, client, smtp, deliver, clock):
    with app.app_context():
        signed_and_confirmed(make_campaign(), "jane@example.net")
    sent = utcnow()
    clock(sent)
    path = link_for(client, smtp, deliver, "jane@example.net")
    assert "jane" not in path.lower(), "the address is never in the link"

    clock(sent + dt.timedelta(hours=24) - dt.timedelta(minutes=1))
    assert client.get(path).status_code == 200
    clock(sent + dt.timedelta(hours=24, minutes=1))
    expired = client.get(path)
    assert expired.status_code == 410
    body = expired.get_data(as_text=True)
    assert "This link has expired" in body and 'href="/my-data"' in body and "Ask for a new link" in body
    assert "jane" not in body.lower()
    assert act_refused(client, path) == 410


def act_refused(client, path: str) -> int:
    """A POST behind a link that opens nothing: the refusal page's status."""
    token = csrf_token(client.get("/my-data").get_data(as_text=True))
    return client.post(f"{path}/withdraw", data={"csrf_token": token, "signature": "1"}).status_code


def test_a_token_dated_more_than_24_hours_ago_is_refused(app, client, monkeypatch):
    """The token's own date counts too, whatever the row says."""
    with app.app_context():
        signed_and_confirmed(make_campaign(), "jane@example.net")
        link_id = db.session.execute(insert_link("jane@example.net")).scalar_one()
        db.session.commit()
        serializer = privacy_mail._serializer()
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 24 * 3600 - 60)
    token = serializer.dumps(link_id)
    monkeypatch.undo()
    assert client.get(f"/my-data/{token}").status_code == 410


def insert_link(mailbox: str):
    return insert(PrivacyLink).values(mailbox=mailbox, created_at=utcnow()).returning(PrivacyLink.id)


@pytest.mark.parametrize("made", [
    "not-a-token",
    "forged",
    "confirm link",
    "resend button",
    "other salt",
    "not a number",
])
def test_a_forged_token_or_one_made_for_something_else_opens_nothing(app, client, made):
    with app.app_context():
        signature_id = signed_and_confirmed(make_campaign(), "jane@example.net")
        link_id = db.session.execute(insert_link("jane@example.net")).scalar_one()
        db.session.commit()
        good = privacy_mail._serializer().dumps(link_id)
        token = {
            "not-a-token": "not-a-token",
            "forged": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
            "confirm link": tokens.token_for(tokens.CONFIRM, link_id),
            "resend button": tokens.resend_token(1, "jane@example.net"),
            "other salt": URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="my-data").dumps(link_id),
            "not a number": privacy_mail._serializer().dumps("1"),
        }[made]
    assert signature_id
    answer = client.get(f"/my-data/{token}")
    assert answer.status_code == 404
    assert "This link does not work" in answer.get_data(as_text=True)
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert act_refused(client, f"/my-data/{token}") == 404
    with app.app_context():
        assert events() == []


def test_the_pages_behind_the_link_are_never_cached_and_send_no_referrer(app, client, smtp, deliver):
    app.config["PUBLIC_MICROCACHE_SECONDS"] = 30
    with app.app_context():
        campaign = make_campaign()
        signature_id = signed_and_confirmed(campaign, "jane@example.net", email_opt_in=True)
    path = link_for(client, smtp, deliver, "jane@example.net")
    page = client.get(path)
    download = act(client, path, "download", format="json")
    for answer in (page, download, ask(client, "jane@example.net")):
        assert answer.headers["Cache-Control"] == "no-store, private"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert "Set-Cookie" not in answer.headers
    assert "public.my_data_page" not in http_cache.CACHEABLE_ENDPOINTS
    assert "Updates by email: you get them." in page.get_data(as_text=True)
    act(client, path, "consents", signature=str(signature_id), change="stop_updates")
    assert "Updates by email: stopped on" in client.get(path).get_data(as_text=True), \
        "the page is made afresh each time, not kept"


# --- Seeing and downloading -----------------------------------------------------------------

@pytest.fixture
def jane(app, client, smtp, deliver):
    """Jane signed two campaigns (with a postcode, an answer, a date and a
    reason on the pledge, confirming it) and pledged a business; the path
    of her link."""
    # Her confirmations and the business's came within the hour: more
    # than an hour's allowance of emails a mailbox did not ask for.
    app.config["MAILBOX_UNCONFIRMED_PER_HOUR"] = 10
    with app.app_context():
        pledge = make_campaign(slug="log-off", title="Log off for a week", kind=Kind.PLEDGE, asks_date=True,
                               asks_reason=True, date_question="I will log off from")
        question = questions.add_question(pledge, "Which feed do you use most?", "text")
        field = f"question_{question.id}"
        make_campaign(slug="ads-off", title="Ads off", kind=Kind.BOYCOTT)
    sign(client, "log-off", given_name="Janet", family_name="Quillfeather", email="Jane+pledges@example.net",
         postal_code="ZQ9 9QZ", email_opt_in="y", show_name="y", reason="My own reasons", reason_public="y",
         pledge_date=(dt.date.today() + dt.timedelta(days=3)).isoformat(), **{field: "The long one"})
    sign(client, "ads-off", given_name="Janet", family_name="Quillfeather", email="jane@example.net",
         email_opt_in="y")
    deliver()
    assert confirm(client, confirm_link(smtp.to("Jane+pledges@example.net")[0].text)).status_code == 200
    token = csrf_token(client.get("/c/ads-off").get_data(as_text=True))
    client.post("/c/ads-off/business", data={
        "business-organisation": "Janet's Bakery", "business-website": "https://bakery.example",
        "business-contact_email": "JANE@example.net", "business-company_size": "1-9", "business-csrf_token": token})
    deliver()
    return link_for(client, smtp, deliver, "jane@example.net")


def test_the_page_shows_every_signature_and_business_pledge(app, client, jane):
    body = client.get(jane).get_data(as_text=True)
    for shown in ("Log off for a week", "Ads off", "Janet", "Quillfeather", "Jane+pledges@example.net",
                  "jane@example.net", "ZQ9 9QZ", "United Kingdom", "Which feed do you use most?", "The long one",
                  "I will log off from", "My own reasons", "Confirmed: it counts.",
                  "Not confirmed yet", "Janet&#39;s Bakery", "JANE@example.net",
                  "The wording you agreed to", "Show my first name on the public list"):
        assert shown in body, shown
    with app.app_context():
        assert [action for action, _ in events()] == ["link_requested", "viewed"]


def test_the_json_download_has_everything_and_no_email_bodies(app, client, jane):
    answer = act(client, jane, "download", format="json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(answer.get_data(as_text=True))
    pledged, boycott = data["signatures"]
    assert (pledged["first_name"], pledged["last_name"], pledged["email"], pledged["postcode"], pledged["country"]) \
        == ("Janet", "Quillfeather", "Jane+pledges@example.net", "ZQ9 9QZ", "GB")
    assert pledged["answers"] == [{"question": "Which feed do you use most?", "answer": "The long one"}]
    assert pledged["pledge_date"]["question"] == "I will log off from" and pledged["pledge_date"]["date"]
    assert pledged["reason"] == {"text": "My own reasons", "show_on_page": True, "review": "pending"}
    assert pledged["consents"] == {"updates_by_email": True, "first_name_on_public_list": True,
                                   "reminder_emails": False}
    assert pledged["status"] == "confirmed" and pledged["confirmed_at"]
    assert pledged["consent_version"] == 1
    texts = {entry["consent"]: entry["text"] for entry in pledged["consent_texts"]}
    assert texts["The pledge"] == "I pledge to take part."
    assert texts["Your first name on the public list"] == "Show my first name on the public list"
    assert boycott["status"] == "pending" and boycott["campaign"]["title"] == "Ads off"
    [business] = data["business_pledges"]
    assert (business["organisation"], business["contact_email"]) == ("Janet's Bakery", "JANE@example.net")
    kinds = sorted((email["kind"], email["status"]) for email in data["emails"])
    assert kinds == [("business_confirmation", "sent"), ("confirmation", "sent"), ("confirmation", "sent"),
                     ("my_data_link", "sent")]
    assert all(set(email) == {"kind", "created_at", "sent_at", "status"} for email in data["emails"])
    text = answer.get_data(as_text=True)
    assert "Confirm your signature" not in text and "/confirm/" not in text, "no email's subject or body"
    with app.app_context():
        assert ("downloaded", None) in events()


def test_the_web_page_download_stands_alone(app, client, jane):
    answer = act(client, jane, "download", format="html")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="my-data.html"'
    body = answer.get_data(as_text=True)
    for shown in ("Log off for a week", "Quillfeather", "ZQ9 9QZ", "The long one", "my_data_link"):
        assert shown in body
    assert "<link" not in body and "<script" not in body


@pytest.mark.parametrize("body", [{"format": "pdf"}, {}])
def test_an_unknown_download_format_is_a_bad_request(client, jane, body):
    assert act(client, jane, "download", **body).status_code == 400


# --- Changing choices --------------------------------------------------------------------------

def test_a_hidden_first_name_leaves_the_public_list_within_seconds(app, client, smtp, deliver):
    """With the site's own caches on (a second each, as in production)."""
    with app.app_context():
        campaign = make_campaign(slug="shown")
        signature_id = signed_and_confirmed(campaign, "jane@example.net", given_name="Janet", show_name=True)
    path = link_for(client, smtp, deliver, "jane@example.net")
    app.config["PUBLIC_MICROCACHE_SECONDS"] = app.config["PUBLIC_LIVE_SECONDS"] = 1
    assert "Janet" in client.get("/c/shown").get_data(as_text=True)
    hidden = act(client, path, "consents", signature=str(signature_id), change="hide_name")
    assert hidden.status_code == 303
    assert "Your choice is saved." in client.get(hidden.headers["Location"]).get_data(as_text=True)
    time.sleep(2.1)
    assert "Janet" not in client.get("/c/shown").get_data(as_text=True)
    act(client, path, "consents", signature=str(signature_id), change="show_name")
    time.sleep(2.1)
    assert "Janet" in client.get("/c/shown").get_data(as_text=True)


def test_stopped_updates_get_no_update_email_and_resume_only_if_asked_for(app, client, smtp, deliver):
    with app.app_context():
        first, second = make_campaign(slug="first"), make_campaign(slug="second")
        stopped = signed_and_confirmed(first, "jane@example.net", email_opt_in=True)
        signed_and_confirmed(second, "jane@example.net", email_opt_in=True)
        never = signed_and_confirmed(make_campaign(slug="third"), "jane@example.net")
        first_id, second_id = first.id, second.id
    path = link_for(client, smtp, deliver, "jane@example.net")
    assert "Updates by email: you did not ask for them." in client.get(path).get_data(as_text=True)
    act(client, path, "consents", signature=str(stopped), change="stop_updates")
    with app.app_context():
        for campaign_id in (first_id, second_id):
            broadcasts.schedule(broadcasts.create_update(db.session.get(Campaign, campaign_id), None,
                                                         f"News {campaign_id}", "Thank you."))
        fan_out_all()
    smtp.reset()
    deliver()
    assert [m.subject for m in smtp.to("jane@example.net")] == [f"News {second_id}"]

    refused = act(client, path, "consents", signature=str(never), change="resume_updates")
    assert refused.headers["Location"].split("#")[0].endswith("done=unchanged")
    resumed = act(client, path, "consents", signature=str(stopped), change="resume_updates")
    assert resumed.headers["Location"].split("#")[0].endswith("done=changed")
    with app.app_context():
        assert signature_of("jane@example.net", first_id).unsubscribed_at is None
        assert ("consent_changed", first_id) in events()


def test_reminders_change_only_on_a_freeze(app, client, smtp, deliver):
    with app.app_context():
        freeze = make_campaign(kind=Kind.FREEZE, window_start=utcnow() + dt.timedelta(days=3),
                               window_end=utcnow() + dt.timedelta(days=4))
        on_freeze = signed_and_confirmed(freeze, "jane@example.net")
        on_pledge = signed_and_confirmed(make_campaign(), "jane@example.net")
        freeze_id = freeze.id
    path = link_for(client, smtp, deliver, "jane@example.net")
    assert "Send me reminders" in client.get(path).get_data(as_text=True)
    act(client, path, "consents", signature=str(on_freeze), change="send_reminders")
    act(client, path, "consents", signature=str(on_pledge), change="send_reminders")
    with app.app_context():
        assert signature_of("jane@example.net", freeze_id).reminder_opt_in is True
        assert db.session.get(Signature, on_pledge).reminder_opt_in is False


def test_nobody_changes_another_mailboxs_signature(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign()
        signed_and_confirmed(campaign, "jane@example.net")
        other = signed_and_confirmed(campaign, "someone@example.net", email_opt_in=True)
    path = link_for(client, smtp, deliver, "jane@example.net")
    for action, data, done in (("consents", {"change": "stop_updates"}, "unchanged"),
                               ("withdraw", {}, "not-withdrawn")):
        answer = act(client, path, action, signature=str(other), **data)
        assert answer.status_code == 303
        assert answer.headers["Location"].split("#")[0].endswith(f"done={done}")
    with app.app_context():
        row = db.session.get(Signature, other)
        assert (row.status, row.unsubscribed_at) == ("confirmed", None)


@pytest.mark.parametrize("data", [
    {"signature": "", "change": "hide_name"},
    {"signature": "abc", "change": "hide_name"},
    {"signature": "9" * 40, "change": "hide_name"},
    {"signature": "-1", "change": "hide_name"},
    {"signature": "1", "change": "drop_table"},
    {"signature": "1"},
])
def test_a_malformed_change_is_a_bad_request(app, client, jane, data):
    assert act(client, jane, "consents", **data).status_code == 400
    assert act(client, jane, "withdraw", signature=data["signature"]).status_code in (303, 400)


# --- Withdrawing -------------------------------------------------------------------------------

def test_withdrawing_drops_the_count_at_once_once_and_the_address_may_sign_again(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="withdrawn")
        signature_id = signed_and_confirmed(campaign, "jane@example.net", email_opt_in=True)
        confirmed_signatures(campaign, [("other@example.net", "FR")])
        campaign_id = campaign.id
    path = link_for(client, smtp, deliver, "jane@example.net")
    with app.app_context():
        broadcasts.schedule(broadcasts.create_update(db.session.get(Campaign, campaign_id), None, "Queued news",
                                                     "Soon."))
        fan_out_all()
        before = {by: exports.counts(campaign_id, by) for by in ("total", "day", "country")}
    assert public_count(client, "withdrawn") == 2

    page = client.get(path)
    token = csrf_token(page.get_data(as_text=True))
    answers = [client.post(f"{path}/withdraw", data={"csrf_token": token, "signature": str(signature_id)})
               for _ in range(2)]
    assert [a.headers["Location"].split("#")[0].rsplit("done=", 1)[1] for a in answers] == [
        "withdrawn", "not-withdrawn"]
    assert public_count(client, "withdrawn") == 1
    with app.app_context():
        assert exports.counts(campaign_id, "total")[0]["signatures"] == before["total"][0]["signatures"] - 1
        assert exports.counts(campaign_id, "country") == [c for c in before["country"] if c["country"] == "FR"]
        assert sum(d["signatures"] for d in exports.counts(campaign_id, "day")) == 1
        assert stored_counts(campaign_id) == {("confirmed", False): 1, ("withdrawn", False): 1}
        row = db.session.get(Signature, signature_id)
        assert row.status == SignatureStatus.WITHDRAWN and row.withdrawn_at is not None
        queued = db.session.execute(select(OutboxMessage.status, OutboxMessage.last_error).where(
            OutboxMessage.signature_id == signature_id, OutboxMessage.kind == "update")).one()
        assert tuple(queued) == ("skipped", "signature withdrawn")
        assert ("withdrawn", campaign_id) in events()
    assert "Withdrawn by you" in client.get(path).get_data(as_text=True)

    smtp.reset()
    sign(client, "withdrawn", email="jane@example.net")
    deliver()
    assert [m.subject.split(":")[0] for m in smtp.to("jane@example.net")] == ["Confirm your signature"]
    with app.app_context():
        assert signature_of("jane@example.net", campaign_id).status == SignatureStatus.PENDING


def stored_counts(campaign_id: int) -> dict:
    """The stored tallies by (status, opted in), those at zero left out."""
    return {key: n for key, n in counts.status_counts(campaign_id).items() if n}


def test_presses_at_once_withdraw_one_signature_once(app, client, smtp, deliver):
    from .builders import at_once
    with app.app_context():
        campaign = make_campaign(slug="at-once")
        signature_id = signed_and_confirmed(campaign, "jane@example.net")
        campaign_id = campaign.id
    results = at_once(app, lambda: my_data.withdraw("jane@example.net", signature_id))
    assert sorted(results) == [False, False, False, True]
    with app.app_context():
        assert stored_counts(campaign_id) == {("withdrawn", False): 1}
    assert public_count(client, "at-once") == 0


# --- Erasing -----------------------------------------------------------------------------------

NAME, FAMILY, EMAIL, POSTCODE = "Zebedee", "Quillfeather", "Zebedee.Q+petitions@Quillfeather.example.org", "ZQ9 9QZ"




def test_erasing_leaves_nothing_of_the_signer_but_their_anonymous_count(app, client, smtp, deliver):
    """A signer who gave everything the forms ask, confirmed one signature,
    left another pending, pledged a business, was invalidated by address
    and restored, was sent an update and stopped all email: after erasing,
    no text in any table holds their name, address or postcode; the
    confirmed signature still counts; the note that says so arrives, last;
    and signing with the address again reaches them no more."""
    # Three emails it did not ask for before the link: more than an hour's allowance.
    app.config["MAILBOX_UNCONFIRMED_PER_HOUR"] = 10
    with app.app_context():
        campaign = make_campaign(slug="everything", kind=Kind.BOYCOTT, postcode_required=True)
        question = questions.add_question(campaign, "Which feed do you use most?", "text")
        organiser_id = make_organiser(campaigns=[campaign]).id
        make_campaign(slug="pending-one")
        campaign_id, field = campaign.id, f"question_{question.id}"
    sign(client, "everything", given_name=NAME, family_name=FAMILY, email=EMAIL, postal_code=POSTCODE,
         email_opt_in="y", show_name="y", **{field: f"{NAME}'s own feed"})
    sign(client, "pending-one", given_name=NAME, family_name=FAMILY, email=EMAIL.lower())
    token = csrf_token(client.get("/c/everything").get_data(as_text=True))
    client.post("/c/everything/business", data={
        "business-organisation": "Acme", "business-website": "https://acme.example",
        "business-contact_email": "zebedee.q@quillfeather.example.org", "business-company_size": "1-9",
        "business-csrf_token": token})
    deliver()
    assert confirm(client, confirm_link(smtp.to(EMAIL)[0].text)).status_code == 200
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        batch = moderation.invalidate(campaign, moderation.Criteria(email=EMAIL, name=FAMILY), None,
                                      f"looked like {EMAIL}")
        moderation.undo_invalidation(batch)
        broadcasts.schedule(broadcasts.create_update(campaign, db.session.get(Organiser, organiser_id), "News",
                                                     "Thank you."))
        fan_out_all()
        signature = signature_of(EMAIL, campaign_id)
        ip_hash, code = signature.ip_hash, signature.referral_code
    deliver()
    path = link_for(client, smtp, deliver, EMAIL)
    with app.app_context():
        subscriptions.stop_all_email(signature_of(EMAIL, campaign_id))
        needles = [NAME, FAMILY, EMAIL, identity.normalise_email(EMAIL), POSTCODE, ip_hash, code]
        before = {table for table, _, _ in personal_traces(needles)}
        assert before >= {"signature", "outbox_message", "invalidation", "business", "suppression",
                          "mailbox_allowance", "privacy_link"}
    assert public_count(client, "everything") == 1

    unticked = act(client, path, "erase")
    assert unticked.status_code == 422
    assert "Tick the box to confirm that you want everything erased" in unticked.get_data(as_text=True)
    smtp.reset()
    erased = act(client, path, "erase", confirm="y")
    assert erased.status_code == 200 and "Your data is erased" in erased.get_data(as_text=True)
    assert erased.headers["Cache-Control"] == "no-store, private"
    assert client.get(path).status_code == 410, "the link opens nothing afterwards"
    deliver()
    [note] = smtp.received
    assert note.subject.startswith(ERASED_SUBJECT)
    assert identity.normalise_email(note.to) == identity.normalise_email(EMAIL)
    assert NAME not in note.text and "everything" not in note.text

    with app.app_context():
        assert personal_traces(needles) == []
        rows = db.session.execute(select(Signature).order_by(Signature.id)).scalars().all()
        assert all(row.anonymised_at is not None for row in rows)
        assert counts.status_counts(campaign_id)[("confirmed", True)] == 1
        assert db.session.get(ErasedMailbox, identity.mailbox_hash(identity.normalise_email(EMAIL))) is not None
        assert db.session.get(Suppression, identity.normalise_email(EMAIL)) is None
        assert db.session.execute(select(Business.contact_email)).scalar_one() == ""
        assert all(campaign is None for action, campaign in events())
        assert [action for action, _ in events()][-1] == "erased"
    assert public_count(client, "everything") == 1

    smtp.reset()
    sign(client, "everything", given_name=NAME, family_name=FAMILY, email=EMAIL, postal_code=POSTCODE)
    ask(client, EMAIL)
    with app.app_context():
        signing.sign(db.session.get(Campaign, campaign_id),
                     signing.Pledge("Other", "Person", "zebedee.q+again@quillfeather.example.org", "GB", "ZQ1",
                                    False, False))
    deliver()
    assert smtp.received == [], "no email of any kind reaches an erased mailbox"


def test_withdrawing_then_erasing_keeps_it_off_the_count(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="off")
        signature_id = signed_and_confirmed(campaign, "jane@example.net")
        campaign_id = campaign.id
    path = link_for(client, smtp, deliver, "jane@example.net")
    act(client, path, "withdraw", signature=str(signature_id))
    act(client, path, "erase", confirm="y")
    assert public_count(client, "off") == 0
    with app.app_context():
        row = db.session.get(Signature, signature_id)
        assert (row.status, row.anonymised_at is not None, row.email) == ("withdrawn", True, "")
        assert stored_counts(campaign_id) == {("withdrawn", False): 1}


def test_the_erased_note_is_emptied_once_sent(app, client, smtp, deliver):
    with app.app_context():
        signed_and_confirmed(make_campaign(), "jane@example.net")
    path = link_for(client, smtp, deliver, "jane@example.net")
    act(client, path, "erase", confirm="y")
    with app.app_context():
        [note] = db.session.execute(select(OutboxMessage).where(
            OutboxMessage.kind == privacy_mail.MY_DATA_ERASED)).scalars().all()
        assert note.recipient == "jane@example.net" and note.status == OutboxStatus.QUEUED
        note_id = note.id
    deliver()
    with app.app_context():
        note = db.session.get(OutboxMessage, note_id)
        assert (note.status, note.recipient, note.subject, note.body_text, note.body_html) == (
            "sent", "", "", "", None)


# --- Retention --------------------------------------------------------------------------------

def test_the_sweep_forgets_links_a_day_old(app, monkeypatch):
    with app.app_context():
        now = utcnow()
        db.session.add_all([PrivacyLink(mailbox="old@example.net", created_at=now - dt.timedelta(hours=25)),
                            PrivacyLink(mailbox="new@example.net", created_at=now - dt.timedelta(hours=23))])
        db.session.commit()
        monkeypatch.setattr(retention, "clock", lambda: now)
        report = retention.sweep()
        assert report.privacy_links_forgotten == 1
        assert db.session.execute(select(PrivacyLink.mailbox)).scalars().all() == ["new@example.net"]
        assert retention.sweep(dry_run=True).privacy_links_forgotten == 0


def test_the_worker_knows_the_two_kinds(app):
    assert {privacy_mail.MY_DATA_LINK, privacy_mail.MY_DATA_ERASED} <= set(outbox.kind_names())
    link, note = outbox._kinds[privacy_mail.MY_DATA_LINK], outbox._kinds[privacy_mail.MY_DATA_ERASED]
    assert (link.capped, link.suppressible) == (True, False)
    assert (note.capped, note.suppressible) == (False, False)
