"""After signing: the thank-you page says which address the email went to,
and offers to send it again. Only the person who typed the address sees
it, no cache keeps it, and the "send it again" button is no way to mail
someone else, nor to mail anyone more often than signing again could."""
from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy import func, select, update

from campaign import subscriptions, tokens
from campaign.extensions import db
from campaign.models import OutboxMessage, Signature

from .builders import confirm_signature, csrf_token, make_campaign, sign

SLUG = "thank-you"
_RESEND_TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


@pytest.fixture
def campaign(ctx):
    return make_campaign(slug=SLUG, title="Say thank you")


def resend_form(response) -> dict[str, str]:
    """The "Send the email again" form's fields, as the page carries them."""
    html = response.get_data(as_text=True)
    match = _RESEND_TOKEN.search(html)
    assert match, "no resend button on the page"
    return {"csrf_token": csrf_token(html), "token": match.group(1)}


def press_send_again(client, form: dict, slug=SLUG, ip="192.0.2.1"):
    return client.post(f"/c/{slug}/resend", data=form, environ_base={"REMOTE_ADDR": ip})


def emails_queued(address: str | None = None) -> int:
    query = select(func.count()).select_from(OutboxMessage)
    if address is not None:
        query = query.where(func.lower(OutboxMessage.recipient) == address.lower())
    return db.session.scalar(query)


def kinds_queued(address: str) -> list[str]:
    return list(db.session.execute(select(OutboxMessage.kind).where(OutboxMessage.recipient == address)
                                   .order_by(OutboxMessage.id)).scalars())


def last_email_a_while_ago(minutes: int = 2) -> None:
    """Time passes: every signature's last email is ``minutes`` older."""
    db.session.execute(update(Signature).values(
        last_emailed_at=Signature.last_emailed_at - dt.timedelta(minutes=minutes)))
    db.session.commit()


def without_token(html: str) -> str:
    """The page with its dated resend token taken out (it differs each second)."""
    return _RESEND_TOKEN.sub("", html)


# --- The page ---------------------------------------------------------------------

def test_the_thank_you_page_names_the_address_just_typed_and_no_cache_keeps_it(campaign, client):
    """The answer to the POST itself (no redirect to a page anyone could
    load) names the address; it is marked no-store, and the shared page
    names nobody."""
    response = sign(client, SLUG, email="grace.hopper@example.org")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'on its way to <strong class="signed-as" dir="auto">grace.hopper@example.org</strong>' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "Send the email again</button>" in html

    shared = client.get(f"/c/{SLUG}/thanks")
    assert "grace.hopper@example.org" not in shared.get_data(as_text=True)
    assert "Send the email again" not in shared.get_data(as_text=True)


def test_the_address_is_shown_as_text_never_as_markup(campaign, client):
    """A bot's honeypot answer names whatever it typed: escaped, like any text."""
    response = sign(client, SLUG, email="<script>alert(1)</script>@example.org", homepage="http://spam.example")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.org" in html


# --- Sending it again ---------------------------------------------------------------

def test_send_again_sends_the_confirmation_again_to_the_same_address(campaign, client, smtp, deliver):
    """Pressed a while after signing: a second confirmation, same link, same
    inbox; the page says so, and names the address again."""
    thanks = sign(client, SLUG, email="ada@example.com")
    last_email_a_while_ago()
    again = press_send_again(client, resend_form(thanks))
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    assert "We are sending it again to <bdi>ada@example.com</bdi>" in html
    deliver()
    first, second = smtp.to("ada@example.com")
    assert first.subject == second.subject and first.subject.startswith("Confirm your signature")
    assert re.search(r"/confirm/\S+", first.text).group(0) == re.search(r"/confirm/\S+", second.text).group(0)


def test_send_again_right_after_signing_sends_nothing_more(campaign, client):
    """The last email is less than a minute old: a press (or ten) adds no email."""
    thanks = sign(client, SLUG, email="eager@example.com")
    for _ in range(10):
        assert press_send_again(client, resend_form(thanks)).status_code == 200
    assert emails_queued("eager@example.com") == 1


def test_pressing_send_again_over_and_over_never_mails_a_victim_more_than_the_caps_allow(
        campaign, client, smtp, deliver):
    """An attacker signs with someone else's address and keeps pressing
    "send it again", a minute apart, with the HTTP limits off (as in a load
    test): the victim gets three emails in the hour (the mailbox's cap),
    and the signature never causes more than five (its own)."""
    assert client.application.config["RATELIMIT_ENABLED"] is False
    form = resend_form(sign(client, SLUG, email="victim@example.net"))
    for _ in range(20):
        last_email_a_while_ago()
        press_send_again(client, form)
    assert emails_queued("victim@example.net") == 5, "the signature's own allowance: five emails, ever"
    deliver()
    assert len(smtp.to("victim@example.net")) == 3, "the mailbox's cap: three unasked-for emails an hour"


def test_send_again_is_limited_per_client_address(app_with):
    """With the HTTP limits on: three presses in ten minutes from one
    address, then 429; another address still has its own."""
    app = app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    with app.app_context():
        make_campaign(slug=SLUG)
    here, elsewhere = (f"10.9.{n}.{uuid.uuid4().int % 250}" for n in (1, 2))
    form = resend_form(client.post(f"/c/{SLUG}/sign", data={
        **{"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com", "country": "GB"},
        "csrf_token": csrf_token(client.get(f"/c/{SLUG}").get_data(as_text=True))}))
    answers = [press_send_again(client, form, ip=here).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert press_send_again(client, form, ip=elsewhere).status_code == 200


@pytest.mark.parametrize("forgery", ["another address", "another campaign", "expired", "tampered"])
def test_a_resend_token_cannot_be_turned_on_anyone_else(campaign, client, forgery):
    """The token names the campaign and the address, signed and dated: it
    cannot be pointed at another inbox or campaign, nor used after a day.
    Whatever is refused leads back to the form and mails nobody."""
    other = make_campaign(slug="elsewhere")
    sign(client, SLUG, email="victim@example.net")
    sign(client, "elsewhere", email="victim@example.net")
    mine = resend_form(sign(client, SLUG, email="me@example.com"))
    last_email_a_while_ago()
    before = emails_queued()
    if forgery == "another address":
        # The same signature and date, over a payload naming someone else.
        victim = base64_encode(json.dumps([campaign.id, "victim@example.net"], separators=(",", ":"))).decode()
        answer = press_send_again(client, {**mine, "token": victim + "." + mine["token"].split(".", 1)[1]})
    elif forgery == "another campaign":
        forged = {**mine, "token": tokens.resend_token(other.id, "victim@example.net")}
        answer = press_send_again(client, forged)
    elif forgery == "expired":
        # The page was left open for two days: the button works for one.
        class TwoDaysAgo(TimestampSigner):
            def get_timestamp(self):
                return int(time.time()) - 2 * 86400
        stale = URLSafeTimedSerializer(client.application.config["SECRET_KEY"], salt=tokens.RESEND,
                                       signer=TwoDaysAgo).dumps([campaign.id, "me@example.com"])
        answer = press_send_again(client, {**mine, "token": stale})
    else:
        answer = press_send_again(client, {**mine, "token": mine["token"][:-3] + "AAA"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/c/{SLUG}#sign")
    assert emails_queued() == before


def test_the_answer_is_the_same_whether_or_not_the_address_has_signed(campaign, client):
    """Send again for an address waiting for confirmation, one that has
    confirmed, and one that never signed: each gets what signing again
    would send it, and the page is the same, so it tells nobody anything."""
    sign(client, SLUG, email="waiting@example.com")
    sign(client, SLUG, email="confirmed@example.com")
    confirm_signature(db.session.execute(select(Signature).where(
        Signature.email == "confirmed@example.com")).scalar_one())
    form = resend_form(sign(client, SLUG, email="me@example.com"))
    last_email_a_while_ago()
    pages = set()
    for email in ("waiting@example.com", "confirmed@example.com", "never@example.com"):
        answer = press_send_again(client, {**form, "token": tokens.resend_token(campaign.id, email)})
        pages.add(without_token(answer.get_data(as_text=True)).replace(email, "ADDRESS"))
    assert len(pages) == 1
    assert kinds_queued("waiting@example.com") == ["confirmation", "confirmation"]
    assert kinds_queued("confirmed@example.com") == ["confirmation", "already_signed"]
    assert kinds_queued("never@example.com") == []


def test_a_mailbox_that_stopped_all_email_gets_nothing_from_send_again(campaign, client, smtp, deliver):
    form = resend_form(sign(client, SLUG, email="quiet@example.org"))
    deliver()
    subscriptions.stop_all_email(db.session.execute(select(Signature)).scalar_one())
    smtp.reset()
    last_email_a_while_ago()
    assert press_send_again(client, form).status_code == 200
    deliver()
    assert smtp.to("quiet@example.org") == []


def test_send_again_needs_the_page_token(campaign, client):
    """Like every public form: no page token, no email (a 400)."""
    form = resend_form(sign(client, SLUG, email="ada@example.com"))
    last_email_a_while_ago()
    assert press_send_again(client, {"token": form["token"]}).status_code == 400
    assert press_send_again(client, form | {"csrf_token": "forged"}).status_code == 400
    assert press_send_again(client, form, ip="192.0.2.9").status_code == 200, "the control"
    assert emails_queued() == 2
