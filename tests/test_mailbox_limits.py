"""Nobody can use the site against a supporter: every limit on email is kept
by the canonical mailbox, a mailbox that stopped all email gets none, names
that could carry a link never reach an unconfirmed inbox, and signing from
many addresses, campaigns and address variants meets limits too."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from campaign import subscriptions
from campaign.extensions import db
from campaign.models import MailboxAllowance, OutboxMessage, OutboxStatus, Signature

from .builders import confirm, csrf_token, form_values, make_campaign, valid_pledge
from .conftest import fresh_app


def sign_from(client, slug: str, ip: str, token: str, **fields):
    return client.post(f"/c/{slug}/sign", data={**valid_pledge(**fields), "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def page_tokens(client, slugs) -> dict[str, str]:
    return {slug: csrf_token(client.get(f"/c/{slug}").get_data(as_text=True)) for slug in slugs}


def inbox(smtp, mailbox: str) -> list:
    """Every email delivered to any +tag variant of ``mailbox``."""
    local, domain = mailbox.split("@")
    return [m for m in smtp.received
            if any(a.lower().split("+")[0] == local and a.lower().endswith("@" + domain)
                   or a.lower() == mailbox for a in m.envelope_to)]


# --- Email bombing ----------------------------------------------------------------

def test_thirty_variants_from_ten_addresses_across_three_campaigns_reach_the_mailbox_three_times(
        app, client, smtp, deliver):
    """The HTTP limits are off (as in a load test): the mailbox's own cap holds."""
    assert app.config["RATELIMIT_ENABLED"] is False
    slugs = ["first", "second", "third"]
    with app.app_context():
        for slug in slugs:
            make_campaign(slug=slug)
    tokens = page_tokens(client, slugs)
    for n in range(30):
        answered = sign_from(client, slugs[n % 3], f"198.51.100.{n % 10}", tokens[slugs[n % 3]],
                             email=f"Victim+{n}@example.net")
        # The signer sees the same thank-you page whatever happened.
        assert answered.status_code == 200 and "Check your email" in answered.get_data(as_text=True)
    deliver()
    assert len(inbox(smtp, "victim@example.net")) == 3
    with app.app_context():
        outcomes = dict(db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        # One signature per campaign: the +tags are the same person.
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 3
    assert outcomes[OutboxStatus.SENT] == 3
    assert outcomes.get(OutboxStatus.SKIPPED, 0) >= 1


def test_the_mailbox_cap_holds_for_a_day_and_frees_with_its_windows(app, client, smtp, deliver):
    app.config["SIGNATURE_EMAIL_CAP"] = 1000
    with app.app_context():
        campaign_slugs = [make_campaign(slug=f"c{n}").slug for n in range(12)]
    tokens = page_tokens(client, campaign_slugs)

    def time_passes(**elapsed):
        with app.app_context():
            for allowance in db.session.execute(select(MailboxAllowance)).scalars():
                allowance.hour_from -= dt.timedelta(**elapsed)
                allowance.day_from -= dt.timedelta(**elapsed) if "days" in elapsed else dt.timedelta()
            db.session.commit()

    def an_hour_passes():
        time_passes(hours=1, minutes=1)

    sent = []
    for n, slug in enumerate(campaign_slugs):
        sign_from(client, slug, "203.0.113.9", tokens[slug], email="sam@example.org")
        deliver()
        sent.append(len(smtp.to("sam@example.org")))
        if n % 3 == 2:
            an_hour_passes()
    # Three an hour, and never more than ten a day.
    assert sent == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10]
    time_passes(days=1, minutes=1)
    sign_from(client, "c0", "203.0.113.9", tokens["c0"], email="sam@example.org")
    deliver()
    assert len(smtp.to("sam@example.org")) == 11, "the next day's window frees"


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, database_url, mail_server, tmp_path):
    """HTTP limits on, kept in this process's memory or in Redis."""
    if request.param == "memory":
        store = "memory://"
    else:
        import os
        store = os.environ.get("TEST_REDIS_URL")
        if not store:
            pytest.skip("set TEST_REDIS_URL to test the shared limit store")
    with fresh_app(database_url, mail_server, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=store,
                   RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False, RATELIMIT_SIGN_ANY_CAMPAIGN="4 per minute") as app:
        yield app


def test_one_client_address_is_limited_across_campaigns(limited_app):
    client = limited_app.test_client()
    slugs = [f"spread-{n}" for n in range(6)]
    with limited_app.app_context():
        for slug in slugs:
            make_campaign(slug=slug)
    tokens = page_tokens(client, slugs)
    # Addresses of this run's own: a shared store outlives the test.
    here, elsewhere = (f"10.{n}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}" for n in (1, 2))
    answers = [sign_from(client, slug, here, tokens[slug], email=f"p{n}@example.com").status_code
               for n, slug in enumerate(slugs)]
    assert answers == [200, 200, 200, 200, 429, 429]
    # Another client address has its own allowance.
    assert sign_from(client, slugs[5], elsewhere, tokens[slugs[5]], email="q@example.com").status_code == 200


# --- Opt-outs hold ------------------------------------------------------------------

def test_after_stop_all_email_signing_elsewhere_sends_no_confirmation_but_the_owner_can_confirm(
        app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="earlier")
        make_campaign(slug="later", title="The later campaign")
    client.post("/c/earlier/sign", data={**valid_pledge(email="Quiet+news@example.org"),
                                         "csrf_token": page_tokens(client, ["earlier"])["earlier"]})
    deliver()
    with app.app_context():
        earlier = db.session.execute(select(Signature)).scalar_one()
        subscriptions.stop_all_email(earlier)
        from campaign import tokens
        unsubscribe_path = f"/unsubscribe/{tokens.token_for(tokens.UNSUBSCRIBE, earlier.id)}"
    smtp.reset()

    thanks = client.post("/c/later/sign", data={**valid_pledge(email="quiet@example.org"),
                                                "csrf_token": page_tokens(client, ["later"])["later"]})
    assert thanks.status_code == 200
    assert "stop all email" in thanks.get_data(as_text=True)
    deliver()
    assert inbox(smtp, "quiet@example.org") == []
    with app.app_context():
        skipped = db.session.execute(select(OutboxMessage.last_error)
                                     .where(OutboxMessage.status == OutboxStatus.SKIPPED)).scalars().all()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == OutboxStatus.SENT)) == 1
    assert skipped == ["mailbox stopped all email"]

    # The unsubscribe link from an email they had is proof of the mailbox:
    # its page offers to confirm what is waiting.
    page = client.get(unsubscribe_path)
    text = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "You have stopped all email from this site" in text and "The later campaign" in text
    # Both signatures wait (neither was confirmed): the later campaign's link.
    later_item = text.split("The later campaign", 1)[0].rsplit("<li>", 1)[1]
    confirm_path = "/confirm/" + later_item.split('href="/confirm/', 1)[1].split('"', 1)[0]
    confirmed = confirm(client, confirm_path)
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)[-3000:]
    assert "Your signature is confirmed" in confirmed.get_data(as_text=True)
    assert client.get("/c/later/count.json").get_json()["signatures"] == 1


def test_the_unsubscribe_page_says_nothing_of_waiting_signatures_to_a_mailbox_that_did_not_stop(
        app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="open")
    client.post("/c/open/sign", data={**valid_pledge(email="loud@example.org"),
                                      "csrf_token": page_tokens(client, ["open"])["open"]})
    with app.app_context():
        from campaign import tokens
        signature_id = db.session.execute(select(Signature.id)).scalar_one()
        path = f"/unsubscribe/{tokens.token_for(tokens.UNSUBSCRIBE, signature_id)}"
    text = client.get(path).get_data(as_text=True)
    assert "stopped all email" not in text and "/confirm/" not in text


# --- Nothing link-like reaches an unconfirmed inbox --------------------------------------

LINK_LIKE_NAMES = [
    ("Visit secure-login.app now", "First name must not contain a web address"),
    ("example.com", "First name must not contain a web address"),
    ("Ann x.co", "First name must not contain a web address"),
    ("www Jane", "First name must not contain a web address"),
    ("https://x", "First name must not contain a web address"),
    ("go to evil\uff0ecom", "First name must not contain a web address"),
    ("mailto:x", "First name must not contain a web address"),
    ("javascript:alert(1)", "First name must not contain a web address"),
]


@pytest.mark.parametrize(("given_name", "message"), LINK_LIKE_NAMES)
def test_a_name_that_could_carry_a_link_is_refused_and_nothing_is_lost(app, client, given_name, message):
    with app.app_context():
        make_campaign(slug="names")
    token = page_tokens(client, ["names"])["names"]
    answer = client.post("/c/names/sign", data={**valid_pledge(given_name=given_name, email="kept@example.com"),
                                                "csrf_token": token})
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert message in text
    assert form_values(text.split('action="/c/names/sign"', 1)[1] if 'action="/c/names/sign"' in text
                       else text).get("email", "kept@example.com") == "kept@example.com"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 0


@pytest.mark.parametrize("given_name", ["J. R. R.", "Mary-Jane", "O'Neil", "St. John", "Zoë", "José María"])
def test_ordinary_names_are_accepted(app, client, given_name):
    with app.app_context():
        make_campaign(slug="fine")
    token = page_tokens(client, ["fine"])["fine"]
    assert client.post("/c/fine/sign", data={**valid_pledge(given_name=given_name),
                                             "csrf_token": token}).status_code == 200


def test_a_stored_link_like_name_is_not_mailed_the_greeting_is_plain(app, client, smtp, deliver):
    """A signature stored before names were checked: the email greets with "Hello," alone."""
    from campaign import signing
    with app.app_context():
        campaign = make_campaign(slug="legacy")
        signing.sign(campaign, signing.Pledge("Visit secure-login.app now", "X", "old@example.com", "GB",
                                              None, False, False))
        signing.sign(campaign, signing.Pledge("Grace", "Hopper", "grace@example.com", "US", None, False, False))
    deliver()
    [legacy] = smtp.to("old@example.com")
    assert legacy.text.startswith("Hello,") and "secure-login" not in legacy.text + legacy.html
    [grace] = smtp.to("grace@example.com")
    assert grace.text.startswith("Hello Grace,")


def test_the_worker_forgets_allowances_whose_day_has_passed(app, deliver):
    from campaign import outbox
    from campaign.models import utcnow
    now = utcnow()
    with app.app_context():
        for mailbox, age in (("old@example.org", dt.timedelta(days=1, minutes=1)), ("new@example.org", dt.timedelta())):
            db.session.add(MailboxAllowance(mailbox=mailbox, hour_from=now - age, hour_sent=3, day_from=now - age,
                                            day_sent=3))
        db.session.commit()
    outbox._tidied_at.clear()
    deliver()
    with app.app_context():
        assert db.session.execute(select(MailboxAllowance.mailbox)).scalars().all() == ["new@example.org"]


def test_racing_workers_cannot_both_take_the_last_email_of_a_window(app, backend):
    """Twenty workers spend one mailbox's allowance at the same moment: three succeed."""
    if backend != "postgresql":
        pytest.skip("a real race needs PostgreSQL (set TEST_DATABASE_URL)")
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from campaign import mailboxes
    from campaign.models import utcnow
    barrier = threading.Barrier(20)

    def spend(_):
        with app.app_context():
            barrier.wait()
            [spent] = mailboxes.spend_allowances(["raced@example.org"], utcnow())
            db.session.commit()
            db.session.remove()
            return spent

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(spend, range(20)))
    assert results.count(True) == app.config["MAILBOX_UNCONFIRMED_PER_HOUR"] == 3


def test_a_batch_spends_each_mailbox_s_allowance_on_its_first_emails(app):
    from campaign import mailboxes
    from campaign.models import utcnow
    with app.app_context():
        first = mailboxes.spend_allowances(["a@x.org", "b@x.org", "a@x.org", "a@x.org", "a@x.org", "b@x.org"],
                                           utcnow())
        assert first == [True, True, True, True, False, True]
        assert mailboxes.spend_allowances(["b@x.org", "b@x.org", "c@x.org"], utcnow()) == [True, False, True]
        db.session.commit()
