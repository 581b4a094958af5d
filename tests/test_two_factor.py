"""Two-factor authentication: turning it on with a QR code and a code,
logging in with a code or a single-use recovery code, an admin requiring it
of everyone, and the ways a stranger who has the password might try to get
past it."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.models import AuditEvent, LoginThrottle, Organiser, OrganiserSession, RecoveryCode

from .builders import (
    PASSWORD,
    TOTP_SECRET,
    app_code,
    csrf_token,
    hold_the_login_clock,
    log_in,
    log_in_with_code,
    make_organiser,
    turn_on_two_factor,
)
from .conftest import fresh_app

LOGIN = "/organiser/login"
CODE_STEP = "/organiser/login/code"
HOME = "/organiser/"
PAGE = "/organiser/two-factor"


def is_logged_in(client) -> bool:
    return client.get(HOME).status_code == 200


def organiser(app, email="org@example.com", two_factor=False, **fields) -> list[str]:
    """An organiser (with two-factor on, if asked: then its recovery codes)."""
    with app.app_context():
        make_organiser(email, **fields)
        return turn_on_two_factor(email) if two_factor else []


def post_form(client, path: str, data: dict, page: str | None = None, token_field: str = "csrf_token"):
    """Submit a form of ``page`` (default: ``path``) as a browser would, with its CSRF token."""
    token = csrf_token(client.get(page or path).get_data(as_text=True))
    return client.post(path, data={token_field: token, **data})


def enrolment_key(client) -> str:
    """The key the enrolment page shows for typing into an app by hand."""
    html = client.get(PAGE).get_data(as_text=True)
    match = re.search(r'<code class="secret-key" id="secret-key">([A-Z2-7 ]+)</code>', html)
    assert match, "the page shows the key as text"
    return match.group(1).replace(" ", "")


def actions(app, email="org@example.com") -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).join(Organiser).where(Organiser.email == email)
                                       .order_by(AuditEvent.id)))


def recovery_codes_on(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", html)


# --- Turning it on -------------------------------------------------------------------------

def test_an_organiser_turns_it_on_with_the_qr_code_and_a_code_from_the_app(app, client):
    organiser(app)
    log_in(client)
    page = client.get(PAGE).get_data(as_text=True)
    assert '<svg role="img"' in page and "<title>QR code to scan with your authenticator app</title>" in page
    key = enrolment_key(client)
    assert enrolment_key(client) == key, "reloading the page does not make the organiser scan again"

    response = post_form(client, f"{PAGE}/enable", {"code": pyotp.TOTP(key).now()}, page=PAGE)
    assert response.status_code == 200
    codes = recovery_codes_on(response.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert "This is the only time they are shown." in response.get_data(as_text=True)
    again = client.get(PAGE).get_data(as_text=True)
    assert "You have 10 unused recovery codes." in again and not recovery_codes_on(again)
    assert "two_factor.enabled" in actions(app)


def test_recovery_codes_are_stored_only_as_hashes(app, client):
    codes = organiser(app, two_factor=True)
    with app.app_context():
        stored = list(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10
    for code in codes:
        plain = code.replace("-", "")
        assert all(plain not in value and code not in value for value in stored)


def test_turning_it_on_ends_every_other_session(app):
    organiser(app)
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop)
    log_in(phone)
    key = enrolment_key(laptop)
    assert post_form(laptop, f"{PAGE}/enable", {"code": pyotp.TOTP(key).now()}, page=PAGE).status_code == 200
    assert is_logged_in(laptop)
    assert not is_logged_in(phone), "a session begun with the password alone does not outlive two-factor"


ENABLE_ERRORS = [
    ("", "Enter the 6-digit code from your app"),
    ("   ", "Enter the 6-digit code from your app"),
    ("12345", "Enter the 6 digits your app shows, like 123456"),
    ("1234567", "Enter the 6 digits your app shows, like 123456"),
    ("abcdef", "Enter the 6 digits your app shows, like 123456"),
    ("12345\x00", "Enter the 6 digits your app shows, like 123456"),
    ("wrong", "Enter the 6 digits your app shows, like 123456"),
    ("not-now", "That code is not right. Enter the code your app shows now"),
]


@pytest.mark.parametrize(("code", "message"), ENABLE_ERRORS, ids=[m[0] or "empty" for m in ENABLE_ERRORS])
def test_a_bad_code_while_turning_it_on_says_why_and_keeps_the_key(app, client, code, message):
    organiser(app)
    log_in(client)
    key = enrolment_key(client)
    if code == "not-now":  # right format, but the code of an hour ago
        code = pyotp.TOTP(key).at(time.time() - 3600)
    response = post_form(client, f"{PAGE}/enable", {"code": code}, page=PAGE)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and html.count(message) == 2, "beside the field and in the summary"
    assert '<code class="secret-key" id="secret-key">' in html and enrolment_key(client) == key
    with app.app_context():
        assert not db.session.execute(select(Organiser)).scalar_one().has_two_factor


def test_codes_with_the_spaces_apps_show_are_accepted(app, client):
    organiser(app)
    log_in(client)
    code = pyotp.TOTP(enrolment_key(client)).now()
    response = post_form(client, f"{PAGE}/enable", {"code": f" {code[:3]} {code[3:]} "}, page=PAGE)
    assert response.status_code == 200 and len(recovery_codes_on(response.get_data(as_text=True))) == 10


# --- Logging in --------------------------------------------------------------------------

def test_the_right_password_alone_no_longer_logs_in(app, client):
    """The hole two-factor closes: whoever has the password reaches only the code step."""
    organiser(app, two_factor=True)
    response = log_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith(CODE_STEP)
    assert not is_logged_in(client)
    with app.app_context():
        assert db.session.scalar(select(OrganiserSession.id_hash)) is None, "no session before the code"
    assert "login" not in actions(app)


def test_logging_in_with_a_code_from_the_app(app, client):
    organiser(app, two_factor=True)
    response = log_in_with_code(client)
    assert response.status_code == 303 and response.headers["Location"].endswith(HOME)
    assert is_logged_in(client)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
        assert event.detail == {"second_factor": "totp"}


def test_the_code_step_keeps_where_the_organiser_was_going(app, client):
    organiser(app, two_factor=True)
    page = client.get(LOGIN)
    client.post(f"{LOGIN}?next=/organiser/audit", data={
        "email": "org@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    response = post_form(client, CODE_STEP, {"code": app_code()})
    assert response.headers["Location"].endswith("/organiser/audit")


def test_a_code_works_only_once(app):
    """A code seen over a shoulder or in a log, used again within its 30 seconds, is refused."""
    organiser(app, two_factor=True)
    code = app_code()
    assert log_in_with_code(app.test_client(), code=code).status_code == 303
    replayed = log_in_with_code(app.test_client(), code=code)
    assert replayed.status_code == 422
    assert "That code is not right, or it has been used already" in replayed.get_data(as_text=True)


def test_logging_in_with_a_recovery_code_uses_it_up(app):
    codes = organiser(app, two_factor=True)
    first = app.test_client()
    response = log_in_with_code(first, code=codes[3].upper().replace("-", " "))
    assert response.status_code == 303
    assert "Recovery codes left: 9." in first.get(HOME).get_data(as_text=True)
    assert log_in_with_code(app.test_client(), code=codes[3]).status_code == 422, "each works once"
    assert log_in_with_code(app.test_client(), code=codes[4]).status_code == 303
    with app.app_context():
        logins = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login")).all()
    assert logins == [{"second_factor": "recovery"}] * 2


LOGIN_CODE_ERRORS = [
    ("", "Enter the code from your app, or one of your recovery codes"),
    ("x" * 41, "That is longer than any code we issue"),
    ("000000", "That code is not right, or it has been used already"),
    ("abcde-fghjk", "That code is not right, or it has been used already"),
    ("12 34", "That code is not right, or it has been used already"),
    ("\x07123456", "contains characters we cannot accept"),
    ("<script>", "That code is not right, or it has been used already"),
]


@pytest.mark.parametrize(("code", "message"), LOGIN_CODE_ERRORS, ids=[m[0][:8] or "empty" for m in LOGIN_CODE_ERRORS])
def test_a_bad_code_at_login_says_why_and_the_step_waits_for_another(app, client, code, message):
    organiser(app, two_factor=True)
    log_in(client)
    response = post_form(client, CODE_STEP, {"code": code})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "<title>Error:" in html
    assert not is_logged_in(client)
    assert post_form(client, CODE_STEP, {"code": app_code()}).status_code == 303, "the right code still works"


def test_the_code_step_cannot_be_reached_without_the_password(app, client):
    organiser(app, two_factor=True)
    response = client.get(CODE_STEP)
    assert response.status_code == 303 and response.headers["Location"].endswith(LOGIN)


def test_the_code_must_follow_the_password_within_minutes(app, client):
    organiser(app, two_factor=True)
    log_in(client)
    app.config["TWO_FACTOR_LOGIN_MINUTES"] = 0
    response = post_form(client, CODE_STEP, {"code": app_code()}, page=LOGIN)
    assert response.status_code == 303 and response.headers["Location"].endswith(LOGIN)
    assert not is_logged_in(client)


def test_five_wrong_codes_send_back_to_the_password_and_count_as_failed_logins(app, client):
    organiser(app, two_factor=True)
    log_in(client)
    answers = [post_form(client, CODE_STEP, {"code": "000000"}).status_code for _ in range(5)]
    assert answers == [422, 422, 422, 422, 303]
    assert client.get(CODE_STEP).headers["Location"].endswith(LOGIN), "the password must be entered again"
    with app.app_context():
        assert db.session.get(LoginThrottle, "org@example.com").failures == 5
    assert actions(app).count("login.failed") == 5


@pytest.fixture
def limited(database_url, mail_server, tmp_path):
    with fresh_app(database_url, mail_server, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                   RATELIMIT_LOGIN="1000 per minute", RATELIMIT_LOGIN_ACCOUNT="1000 per minute") as app:
        yield app


def test_a_stranger_with_the_password_cannot_guess_codes_quickly_nor_lock_the_organiser_out(limited, monkeypatch):
    """With the password stolen, each password entry buys five code guesses;
    after five, the stranger's browser must wait longer and longer, while the
    organiser's own browser is never delayed."""
    hold_the_login_clock(monkeypatch)
    organiser(limited, two_factor=True)
    own = limited.test_client()
    assert log_in_with_code(own).status_code == 303
    post_form(own, "/organiser/logout", {}, page=PAGE)

    stranger = limited.test_client()
    log_in(stranger)
    for _ in range(5):
        post_form(stranger, CODE_STEP, {"code": "000000"})
    again = log_in(stranger)
    assert again.status_code == 429 and "Try again in" in again.get_data(as_text=True)

    # Her next code is a later one than the one she used (codes work once).
    assert log_in_with_code(own, code=app_code(seconds_ahead=30)).status_code == 303
    assert is_logged_in(own)


# --- New codes, turning it off -------------------------------------------------------------

def test_new_recovery_codes_replace_the_old_ones(app, client):
    old = organiser(app, two_factor=True)
    log_in_with_code(client)
    response = post_form(client, f"{PAGE}/recovery-codes", {"codes-code": app_code(seconds_ahead=30)}, page=PAGE,
                         token_field="codes-csrf_token")
    new = recovery_codes_on(response.get_data(as_text=True))
    assert response.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert log_in_with_code(app.test_client(), code=old[0]).status_code == 422
    assert log_in_with_code(app.test_client(), code=new[0]).status_code == 303


@pytest.mark.parametrize(("password", "code", "field", "message"), [
    ("", "ok", "off-password", "Enter your password"),
    ("not my password at all", "ok", "off-password", "That is not your password"),
    (PASSWORD, "", "off-code", "Enter the 6-digit code from your app"),
    (PASSWORD, "000000", "off-code", "That code is not right, or it has been used already"),
], ids=["no-password", "wrong-password", "no-code", "wrong-code"])
def test_turning_it_off_needs_the_password_and_a_code(app, client, password, code, field, message):
    organiser(app, two_factor=True)
    log_in_with_code(client)
    response = post_form(client, f"{PAGE}/disable", {
        "off-password": password, "off-code": app_code(seconds_ahead=30) if code == "ok" else code},
        page=PAGE, token_field="off-csrf_token")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'id="{field}-error"' in html
    with app.app_context():
        assert db.session.execute(select(Organiser)).scalar_one().has_two_factor


def test_turning_it_off_with_password_and_code(app, client):
    organiser(app, two_factor=True)
    log_in_with_code(client)
    response = post_form(client, f"{PAGE}/disable", {
        "off-password": PASSWORD, "off-code": app_code(seconds_ahead=30)}, page=PAGE, token_field="off-csrf_token")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(RecoveryCode.id)) is None
    assert log_in(app.test_client()).headers["Location"].endswith(HOME)
    assert "two_factor.disabled" in actions(app)


# --- What admins do ----------------------------------------------------------------------

def press(client, path: str, action: str):
    return post_form(client, path, {"action": action}, page=PAGE)


def test_an_admin_requires_it_and_an_organiser_without_it_must_turn_it_on_first(app):
    organiser(app, "admin@example.com", two_factor=True, is_admin=True)
    organiser(app, "member@example.com")
    admin = app.test_client()
    log_in_with_code(admin, "admin@example.com")
    assert press(admin, "/organiser/two-factor/required", "on").status_code == 303
    assert "Every organiser must use two-factor authentication." in \
        admin.get("/organiser/organisers").get_data(as_text=True)

    member = app.test_client()
    assert log_in(member, "member@example.com").status_code == 303
    for path in (HOME, "/organiser/audit", "/organiser/campaigns/new"):
        response = member.get(path)
        assert response.status_code == 303 and response.headers["Location"].endswith(PAGE), path
    assert "This site requires two-factor authentication: turn it on to go on." in \
        member.get(PAGE).get_data(as_text=True)
    key = enrolment_key(member)
    post_form(member, f"{PAGE}/enable", {"code": pyotp.TOTP(key).now()}, page=PAGE)
    assert is_logged_in(member)

    refused = post_form(member, f"{PAGE}/disable", {"off-password": PASSWORD, "off-code": pyotp.TOTP(key).now()},
                        page=PAGE, token_field="off-csrf_token")
    assert refused.status_code == 422 and "it cannot be turned off" in refused.get_data(as_text=True)
    assert actions(app, "admin@example.com")[-1] == "two_factor.required"


def test_an_organiser_cannot_require_it_of_everyone(app, client):
    organiser(app)
    log_in(client)
    assert press(client, "/organiser/two-factor/required", "on").status_code == 404
    with app.app_context():
        from campaign import two_factor
        assert not two_factor.required()


def test_an_admin_turns_it_off_for_someone_who_lost_their_phone_and_codes(app):
    organiser(app, "admin@example.com", two_factor=True, is_admin=True)
    organiser(app, "member@example.com", two_factor=True)
    member = app.test_client()
    log_in_with_code(member, "member@example.com")
    assert is_logged_in(member)
    admin = app.test_client()
    log_in_with_code(admin, "admin@example.com")
    with app.app_context():
        member_id = db.session.scalar(select(Organiser.id).where(Organiser.email == "member@example.com"))
    assert press(admin, f"/organiser/organisers/{member_id}/two-factor", "reset").status_code == 303
    assert not is_logged_in(member), "their sessions end with it"
    assert log_in(app.test_client(), "member@example.com").headers["Location"].endswith(HOME)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "two_factor.reset")).one()
        assert event.detail == {"organiser": member_id}


def test_the_activity_page_names_two_factor_events(app, client):
    codes = organiser(app, two_factor=True)
    stranger = app.test_client()
    log_in(stranger)
    post_form(stranger, CODE_STEP, {"code": "000000"})
    log_in_with_code(client, code=codes[0])
    html = client.get("/organiser/audit").get_data(as_text=True)
    assert "Failed login" in html and "wrong two-factor code" in html
    assert "Logged in" in html and "with a recovery code" in html
    assert TOTP_SECRET not in html and codes[0] not in html
