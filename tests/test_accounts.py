"""A forgotten password and an invitation: emailed links that work once,
for a while; the same answer whether or not an address has an account;
passwords that are long and not common."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from campaign import organisers
from campaign.extensions import db
from campaign.models import Invitation, Membership, Organiser, OrganiserSession

from .builders import PASSWORD, csrf_token, log_in, make_campaign, make_organiser

LOGIN = "/organiser/login"
NEW_PASSWORD = "seven tidy otters rowing"


def organiser(app, email="org@example.com", **fields) -> int:
    with app.app_context():
        return make_organiser(email, **fields).id


def link_in(smtp, address: str, path: str) -> str:
    [email] = [m for m in smtp.to(address)]
    match = re.search(rf"https?://[^/\s]+({re.escape(path)}[\w.-]+)", email.text)
    assert match, email.text
    return match.group(1)


def ask_for_reset(client, email):
    page = client.get("/organiser/forgot-password")
    return client.post("/organiser/forgot-password", data={"email": email,
                                                           "csrf_token": csrf_token(page.get_data(as_text=True))})


def set_password(client, path, password=NEW_PASSWORD, again=None):
    page = client.get(path)
    return client.post(path, data={"password": password, "confirm": password if again is None else again,
                                   "csrf_token": csrf_token(page.get_data(as_text=True))})


def is_logged_in(client) -> bool:
    return client.get("/organiser/").status_code == 200


# --- A forgotten password ---------------------------------------------------------------

def test_a_forgotten_password_is_reset_from_the_emailed_link_once(app, client, smtp, deliver):
    organiser(app)
    elsewhere = app.test_client()
    log_in(elsewhere)
    answer = ask_for_reset(client, "ORG@example.com")
    assert answer.status_code == 303
    said = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "If an organiser account has that address" in said
    deliver()
    path = link_in(smtp, "org@example.com", "/organiser/reset-password/")

    assert set_password(client, path).status_code == 303
    assert log_in(client, password=PASSWORD).status_code == 422, "the old password no longer works"
    assert log_in(client, password=NEW_PASSWORD).status_code == 303
    assert not is_logged_in(elsewhere), "every earlier session ended"
    again = client.get(path)
    assert again.status_code == 410 and "This link no longer works" in again.get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_no_email(app, client, smtp, deliver):
    organiser(app)
    answers = []
    for address in ("org@example.com", "nobody@example.com"):
        asked = ask_for_reset(client, address)
        answers.append((asked.status_code, asked.headers["Location"],
                        client.get(asked.headers["Location"]).get_data(as_text=True).count("If an organiser account")))
    assert answers[0] == answers[1] == (303, "/organiser/login", 1)
    deliver()
    assert [m.to for m in smtp.received] == ["org@example.com"]


def test_a_reset_link_expires_after_an_hour(app, client, smtp, deliver):
    organiser(app)
    with app.app_context():
        held = db.session.execute(select(Organiser)).scalar_one()

        class AnHourAgo(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - 3601

        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="organiser-password-reset", signer=AnHourAgo)
        token = old.dumps([held.id, organisers._fingerprint(held)])
    assert client.get(f"/organiser/reset-password/{token}").status_code == 410


def test_asking_for_resets_is_capped_per_mailbox(app, client, smtp, deliver):
    """A stranger cannot use the form to flood an organiser's inbox."""
    organiser(app)
    for _ in range(6):
        ask_for_reset(client, "org@example.com")
    deliver()
    assert len(smtp.to("org@example.com")) == app.config["MAILBOX_UNCONFIRMED_PER_HOUR"] == 3


@pytest.mark.parametrize(("password", "again", "message"), [
    ("short one", None, "The password must be at least 12 characters long"),
    ("qwertyuiop123", None, "This password is too common"),
    ("Password2024!!", None, "This password is too common"),
    ("iloveyou123456", None, "This password is too common"),
    ("org@example.com", None, "The password must not be your email address"),
    (NEW_PASSWORD, "something else entirely", "The two passwords are not the same"),
    ("", None, "Enter a password"),
])
def test_a_new_password_that_will_not_do_gets_a_clear_message(app, client, smtp, deliver, password, again, message):
    organiser(app)
    ask_for_reset(client, "org@example.com")
    deliver()
    path = link_in(smtp, "org@example.com", "/organiser/reset-password/")
    answer = set_password(client, path, password, again)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert message in text and "<title>Error:" in text
    assert set_password(client, path).status_code == 303, "the link still works after a refusal"


# --- Invitations --------------------------------------------------------------------------

def add_member(client, slug, email):
    page = client.get(f"/organiser/c/{slug}/members")
    return client.post(f"/organiser/c/{slug}/members",
                       data={"email": email, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_an_admin_invites_a_newcomer_to_a_campaign_who_sets_a_password(app, client, smtp, deliver):
    organiser(app, "admin@example.com", is_admin=True)
    with app.app_context():
        make_campaign(slug="grow", title="Growing the team")
    log_in(client, "admin@example.com")
    answer = add_member(client, "grow", "newcomer@example.com")
    assert answer.status_code == 303
    assert "emailed them an invitation" in client.get(answer.headers["Location"]).get_data(as_text=True)
    deliver()
    [email] = smtp.to("newcomer@example.com")
    assert "Growing the team" in email.subject
    path = link_in(smtp, "newcomer@example.com", "/organiser/invitation/")

    newcomer = app.test_client()
    page = newcomer.get(path).get_data(as_text=True)
    assert "Growing the team" in page and "newcomer@example.com" in page
    assert set_password(newcomer, path).status_code == 303
    assert log_in(newcomer, "newcomer@example.com", NEW_PASSWORD).status_code == 303
    assert "Growing the team" in newcomer.get("/organiser/").get_data(as_text=True)
    assert newcomer.get(path).status_code == 410, "an invitation works once"


def test_an_invitation_as_admin_from_the_organisers_page(app, client, smtp, deliver):
    organiser(app, "admin@example.com", is_admin=True)
    log_in(client, "admin@example.com")
    page = client.get("/organiser/organisers")
    answer = client.post("/organiser/organisers/invite", data={
        "invite-email": "second@example.com", "invite-as_admin": "y",
        "invite-csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 303
    deliver()
    path = link_in(smtp, "second@example.com", "/organiser/invitation/")
    set_password(app.test_client(), path)
    with app.app_context():
        assert db.session.execute(select(Organiser.is_admin).where(Organiser.email == "second@example.com")
                                  ).scalar_one() is True


def test_an_invitation_to_someone_with_an_account_just_grants_it(app, client, smtp, deliver):
    existing = organiser(app, "has@example.com")
    with app.app_context():
        campaign = make_campaign(slug="more")
        admin = make_organiser("admin@example.com", is_admin=True)
        invitation = organisers.invite("has@example.com", admin, campaign=campaign)
        path = f"/organiser/invitation/{organisers.invitation_token(invitation)}"
        campaign_id = campaign.id
    invitee = app.test_client()
    page = invitee.get(path).get_data(as_text=True)
    assert "You already have an organiser account" in page and 'name="password"' not in page
    answer = invitee.post(path, data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.get(Membership, (existing, campaign_id)) is not None
        assert db.session.scalar(select(func.count()).select_from(Organiser)) == 2


def test_an_invitation_expires_after_seven_days(app, client):
    with app.app_context():
        admin = make_organiser("admin@example.com", is_admin=True)
        invitation = organisers.invite("late@example.com", admin, as_admin=True)

        class EightDaysAgo(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(time.time()) - 8 * 86400

        token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="organiser-invitation",
                                       signer=EightDaysAgo).dumps(invitation.id)
    answer = client.get(f"/organiser/invitation/{token}")
    assert answer.status_code == 410 and "Invitations work once, for a week" in answer.get_data(as_text=True)


def test_a_forged_link_shows_the_expired_page_and_changes_nothing(app, client):
    organiser(app)
    for path in ("/organiser/reset-password/forged", "/organiser/invitation/forged"):
        assert client.get(path).status_code == 410
        token = csrf_token(client.get(LOGIN).get_data(as_text=True))
        assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                       "csrf_token": token}).status_code == 410
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
        assert db.session.scalar(select(func.count()).select_from(OrganiserSession)) == 0


def test_accepting_an_invitation_twice_at_once_creates_one_account(app):
    with app.app_context():
        admin = make_organiser("admin@example.com", is_admin=True)
        invitation = organisers.invite("race@example.com", admin, as_admin=True)
        organisers.accept_invitation(invitation, NEW_PASSWORD)
        with pytest.raises(organisers.AccountError):
            organisers.accept_invitation(invitation, "another fine passphrase")
        assert db.session.scalar(select(func.count()).select_from(Organiser)
                                 .where(Organiser.email == "race@example.com")) == 1


def test_common_passwords_are_refused_when_an_admin_creates_an_account_too(ctx):
    with pytest.raises(organisers.AccountError, match="too common"):
        organisers.create_organiser("x@example.com", "qwertyuiop123")
    assert organisers.password_problem("correct horse battery staple") is None
    assert dt  # the module is used by the expiry tests' helpers
