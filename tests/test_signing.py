"""The story of signing: a person signs, gets an email, confirms, and counts once."""
import pytest
from sqlalchemy import func, select

from campaign.extensions import db
from campaign.identity import normalise_email
from campaign.models import Campaign, CampaignStatus, OutboxMessage, Signature, SignatureStatus

from .builders import confirm, confirm_link, csrf_token, form_values, make_campaign, sign, valid_pledge


def count_json(client, slug):
    return client.get(f"/c/{slug}/count.json").get_json()


def test_supporter_signs_confirms_and_the_count_rises(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="save-the-park", goal=10)

    response = sign(client, "save-the-park", email="Ada@Example.com")
    assert response.status_code == 200
    thanks = response.get_data(as_text=True)
    assert "confirmation email is on its way to <strong" in thanks and ">Ada@example.com</strong>" in thanks
    assert "counts once you confirm" in thanks
    assert count_json(client, "save-the-park")["signatures"] == 0

    deliver()
    [email] = smtp.to("Ada@example.com")
    assert email.message.get_body(preferencelist=("plain",)) and email.message.get_body(preferencelist=("html",))
    path = confirm_link(email.text)
    assert path in email.html

    page = client.get(path)
    assert "Confirm my signature" in page.get_data(as_text=True)
    assert count_json(client, "save-the-park")["signatures"] == 0, "a GET must not confirm"

    confirmed = confirm(client, path)
    assert confirmed.status_code == 200
    assert "Your signature is confirmed" in confirmed.get_data(as_text=True)
    assert count_json(client, "save-the-park") == {
        "slug": "save-the-park", "signatures": 1, "goal": 10, "status": "live"}
    page = client.get("/c/save-the-park").get_data(as_text=True)
    assert '<span role="status" aria-live="polite" data-count>1</span>' in page
    assert '<progress value="1" max="10"' in page


def test_confirming_twice_counts_once(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="twice")
    sign(client, "twice")
    deliver()
    path = confirm_link(smtp.received[0].text)
    form = form_values(client.get(path).get_data(as_text=True))
    first = client.post(path, data=form)
    again = client.post(path, data=form)  # a double click
    assert first.status_code == again.status_code == 200
    assert "Your signature is confirmed" in again.get_data(as_text=True)
    assert count_json(client, "twice")["signatures"] == 1


def test_a_forged_confirmation_link_is_not_found(app, client):
    assert client.get("/confirm/MQ.forged").status_code == 404
    assert client.get("/confirm/not-a-token").status_code == 404


def test_signing_again_sends_the_confirmation_again_and_never_counts_twice(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="again")
    first = sign(client, "again", email="grace@example.com")
    second = sign(client, "again", email="  GRACE@example.com ")
    assert first.status_code == second.status_code == 200
    assert "Check your email" in first.get_data(as_text=True) and "Check your email" in second.get_data(as_text=True)
    deliver()
    mails = smtp.to("grace@example.com")
    assert [m.subject.startswith("Confirm your signature") for m in mails] == [True, True]
    assert confirm_link(mails[0].text) == confirm_link(mails[1].text)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_signing_again_after_confirming_sends_a_short_note(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="noted", title="Noted campaign")
    sign(client, "noted", email="alan@example.com")
    deliver()
    confirm(client, confirm_link(smtp.received[0].text))
    response = sign(client, "noted", email="alan@example.com")
    assert response.status_code == 200
    deliver()
    note = smtp.to("alan@example.com")[-1]
    assert note.subject == "You have already signed: Noted campaign"
    assert "/confirm/" not in note.text
    assert count_json(client, "noted")["signatures"] == 1


def test_the_already_signed_note_is_written_when_sent_and_dropped_once_invalidated(app, client, smtp, deliver):
    """Like the confirmation, the note to someone signing again is rendered by
    the worker from the signature: no note goes to a signature an organiser
    has invalidated since, and the note names the campaign as it is then."""
    with app.app_context():
        campaign_id = make_campaign(slug="renoted", title="First title").id
    for address in ("kept@example.com", "caught@example.com"):
        sign(client, "renoted", email=address)
    deliver()
    for address in ("kept@example.com", "caught@example.com"):
        confirm(client, confirm_link(smtp.to(address)[0].text))
        sign(client, "renoted", email=address)
    with app.app_context():
        db.session.get(Campaign, campaign_id).title = "Second title"
        caught = db.session.scalar(select(Signature).where(Signature.email == "caught@example.com"))
        caught.status = SignatureStatus.INVALIDATED
        db.session.commit()
    result = deliver()
    assert (result.sent, result.skipped) == (1, 1)
    assert [m.subject for m in smtp.to("kept@example.com")][-1] == "You have already signed: Second title"
    assert len(smtp.to("caught@example.com")) == 1  # the confirmation only
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.last_error).where(
            OutboxMessage.recipient == "caught@example.com", OutboxMessage.last_error.is_not(None))) == \
            "signature invalidated"


def test_gmail_dots_and_tags_are_the_same_person(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="gmail")
    sign(client, "gmail", email="ada.lovelace@gmail.com")
    sign(client, "gmail", email="AdaLovelace+campaigns@googlemail.com")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_no_signature_ever_triggers_more_than_five_emails(app, client, smtp, deliver):
    # The mailbox's own allowance (3 an hour) is another rule: see test_mailbox_limits.
    app.config["MAILBOX_UNCONFIRMED_PER_HOUR"] = 100
    with app.app_context():
        make_campaign(slug="capped")
    for _ in range(9):
        assert sign(client, "capped", email="spam@example.com").status_code == 200
    deliver()
    assert len(smtp.to("spam@example.com")) == 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 5


def test_a_double_click_sends_one_email(app_with, smtp):
    app = app_with(SIGNATURE_RESEND_QUIET_SECONDS=10)
    with app.app_context():
        make_campaign(slug="double")
    client = app.test_client()
    sign(client, "double", email="dc@example.com")
    sign(client, "double", email="dc@example.com")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_the_honeypot_is_silently_discarded(app, client, smtp):
    with app.app_context():
        make_campaign(slug="bots")
    response = sign(client, "bots", homepage="http://spam.example")
    # The thank-you page a person gets, so a bot learns nothing.
    assert response.status_code == 200
    assert "confirmation email is on its way to <strong" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_signature_keeps_consent_as_given(app, client):
    with app.app_context():
        make_campaign(slug="consent")
    sign(client, "consent", email="opt@example.com", email_opt_in="y")
    sign(client, "consent", email="no@example.com")
    with app.app_context():
        rows = {s.email: s for s in db.session.execute(select(Signature)).scalars()}
        assert rows["opt@example.com"].email_opt_in is True
        assert rows["no@example.com"].email_opt_in is False
        assert rows["no@example.com"].show_name is False
        assert rows["opt@example.com"].status == SignatureStatus.PENDING
        assert rows["opt@example.com"].ip_hash and "127.0.0.1" not in rows["opt@example.com"].ip_hash


def test_email_normalisation():
    assert normalise_email("  Ada@Example.COM ") == "ada@example.com"
    assert normalise_email("a.d.a+x@gmail.com") == "ada@gmail.com"
    assert normalise_email("Ada@googlemail.com") == "ada@gmail.com"
    # A +tag reaches the same inbox whatever the domain; dots only fold at gmail.
    assert normalise_email("a.da+x@example.com") == "a.da@example.com"
    assert normalise_email("Victim+1@Example.NET") == normalise_email("victim+2@example.net") == "victim@example.net"


def test_confirming_needs_no_cookie_but_refuses_another_site(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="cookieless")
    sign(client, "cookieless", email="nocookie@example.com")
    deliver()
    path = confirm_link(smtp.received[0].text)
    browser = app.test_client(use_cookies=False)
    form = form_values(browser.get(path).get_data(as_text=True))
    forged = browser.post(path, data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    assert count_json(client, "cookieless")["signatures"] == 0
    assert browser.post(path, data={**form, "csrf_token": "nonsense"}).status_code == 400
    confirmed = browser.post(path, data=form)
    assert confirmed.status_code == 200 and "Set-Cookie" not in confirmed.headers
    assert count_json(client, "cookieless")["signatures"] == 1


def test_the_confirmation_email_is_written_when_it_is_sent(app, client, smtp, deliver):
    """Signing renders nothing: the worker writes the email from the signature,
    so it carries the campaign as it is when the email leaves."""
    with app.app_context():
        campaign_id = make_campaign(slug="renamed", title="Old title").id
    sign(client, "renamed", given_name="Hedy", email="hedy@example.com")
    with app.app_context():
        db.session.get(Campaign, campaign_id).title = "New title"
        db.session.commit()
    deliver()
    [email] = smtp.to("hedy@example.com")
    assert email.subject == "Confirm your signature: New title"
    assert "Hello Hedy," in email.text
    assert confirm(client, confirm_link(email.text)).status_code == 200
    assert count_json(client, "renamed")["signatures"] == 1


def test_no_confirmation_email_once_the_signature_is_no_longer_pending(app, client, smtp, deliver):
    """An organiser invalidated the signature (or it was confirmed through an
    earlier email) before this email left: asking to confirm would be wrong."""
    with app.app_context():
        make_campaign(slug="caught")
    sign(client, "caught", email="bot@spam.example")
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        signature.status = SignatureStatus.INVALIDATED
        db.session.commit()
    result = deliver()
    assert (result.sent, result.skipped) == (0, 1)
    assert smtp.to("bot@spam.example") == []
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.last_error)) == "signature invalidated"


def test_a_closed_campaign_stops_taking_signatures_within_the_live_second(app_with, smtp):
    """Under a spike the sign POST trusts what it knew of the campaign a
    moment ago; closing still takes effect within that moment."""
    import time
    app = app_with(PUBLIC_LIVE_SECONDS=0.5)
    client = app.test_client()
    with app.app_context():
        make_campaign(slug="closing")
    token = csrf_token(client.get("/c/closing").get_data(as_text=True))
    assert sign(client, "closing", email="first@example.com").status_code == 200
    with app.app_context():
        db.session.scalar(select(Campaign).where(Campaign.slug == "closing")).status = CampaignStatus.CLOSED
        db.session.commit()
    time.sleep(0.6)
    late = client.post("/c/closing/sign", data={**valid_pledge(email="late@example.com"), "csrf_token": token})
    assert late.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(Signature.email)).all() == ["first@example.com"]


def test_signing_and_confirming_are_one_statement_on_postgresql(ctx, backend):
    """The PostgreSQL form of each hot write is the statement the statements
    module's docstring shows: the change, then what follows from it, in CTEs."""
    if backend != "postgresql":
        pytest.skip("the one-statement form is PostgreSQL's")
    from sqlalchemy.dialects import postgresql

    from campaign import signing

    sign_sql = str(signing._SIGN._build("one").compile(dialect=postgresql.dialect()))
    assert sign_sql.startswith("WITH first AS \n(INSERT INTO signature")
    assert "then_1 AS \n(INSERT INTO signature_tally" in sign_sql
    assert "then_2 AS \n(INSERT INTO outbox_message" in sign_sql
    confirm_sql = str(signing._CONFIRM._build("one").compile(dialect=postgresql.dialect()))
    assert confirm_sql.startswith("WITH first AS \n(UPDATE signature SET ")
    assert "then_3 AS \n(INSERT INTO daily_country_count" in confirm_sql
