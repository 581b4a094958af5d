"""Organiser sessions the server can end, and a brake on password guessing
that no stranger can turn into a lockout."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.models import LoginThrottle, Organiser, OrganiserSession, utcnow

from .builders import PASSWORD, csrf_token, hold_the_login_clock, log_in, make_organiser
from .conftest import fresh_app

LOGIN = "/organiser/login"
HOME = "/organiser/"


def is_logged_in(client) -> bool:
    return client.get(HOME).status_code == 200


def cookie(client, name: str = "session"):
    found = client.get_cookie(name)
    return None if found is None else found.value


def press(client, path: str):
    """A button of the organiser pages, with the session's CSRF token."""
    token = csrf_token(client.get(LOGIN).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token})


def organiser(app, email="org@example.com", **fields) -> int:
    """An organiser made in an application context of its own: the requests
    of these tests each get theirs, as in production (where nothing a request
    remembers in ``g`` outlives it)."""
    with app.app_context():
        return make_organiser(email, **fields).id


def replay(app, session_cookie: str):
    """A new browser holding a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", session_cookie)
    return thief


def test_a_session_cookie_copied_before_log_out_is_worth_nothing_after(app, client):
    organiser(app)
    log_in(client)
    stolen = cookie(client)
    assert is_logged_in(replay(app, stolen))
    assert press(client, "/organiser/logout").status_code == 303
    assert not is_logged_in(client)
    assert not is_logged_in(replay(app, stolen)), "logging out ends the session on the server"


def test_deactivating_an_organiser_ends_their_sessions_at_once(app, client):
    gone = organiser(app, "gone@example.com")
    organiser(app, "admin@example.com", is_admin=True)
    theirs = app.test_client()
    log_in(theirs, "gone@example.com")
    assert is_logged_in(theirs)

    log_in(client, "admin@example.com")
    assert press(client, f"/organiser/organisers/{gone}/account").status_code == 400, "an action is needed"
    token = csrf_token(client.get("/organiser/organisers").get_data(as_text=True))
    done = client.post(f"/organiser/organisers/{gone}/account", data={"csrf_token": token,
                                                                              "action": "deactivate"})
    assert done.status_code == 303
    assert "deactivated and logged out everywhere" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert not is_logged_in(theirs), "the next request of theirs is refused"
    assert log_in(app.test_client(), "gone@example.com").status_code == 422

    token = csrf_token(client.get("/organiser/organisers").get_data(as_text=True))
    client.post(f"/organiser/organisers/{gone}/account", data={"csrf_token": token, "action": "reactivate"})
    assert log_in(theirs, "gone@example.com").status_code == 303


def test_an_admin_cannot_deactivate_themselves(app, client):
    admin = organiser(app, "admin@example.com", is_admin=True)
    log_in(client, "admin@example.com")
    token = csrf_token(client.get("/organiser/organisers").get_data(as_text=True))
    assert client.post(f"/organiser/organisers/{admin}/account",
                       data={"csrf_token": token, "action": "deactivate"}).status_code == 404
    assert is_logged_in(client)


def test_log_out_everywhere_ends_the_other_devices_sessions_too(app, client):
    organiser(app)
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop)
    log_in(phone)
    done = press(phone, "/organiser/logout-everywhere")
    assert done.status_code == 303
    assert not is_logged_in(phone) and not is_logged_in(laptop)
    assert log_in(laptop).status_code == 303, "and one can log in again"


def test_logging_in_starts_a_new_session_and_csrf_token(app, client):
    organiser(app)
    before_token = csrf_token(client.get(LOGIN).get_data(as_text=True))
    before_cookie = cookie(client)
    log_in(client)
    assert cookie(client) != before_cookie
    after_token = csrf_token(client.get(LOGIN).get_data(as_text=True))
    assert after_token != before_token
    # The token from before logging in no longer works.
    assert client.post("/organiser/logout", data={"csrf_token": before_token}).status_code == 400
    assert is_logged_in(client)


@pytest.mark.parametrize(("column", "age", "ends"), [
    ("last_seen_at", dt.timedelta(minutes=119), False),
    ("last_seen_at", dt.timedelta(minutes=121), True),
    ("created_at", dt.timedelta(hours=11, minutes=59), False),
    ("created_at", dt.timedelta(hours=12, minutes=1), True),
])
def test_a_session_ends_when_idle_too_long_or_too_old(app, client, column, age, ends):
    organiser(app)
    log_in(client)
    with app.app_context():
        for held in db.session.execute(select(OrganiserSession)).scalars():
            setattr(held, column, utcnow() - age)
        db.session.commit()
    assert is_logged_in(client) is not ends


def test_only_a_hash_of_the_session_id_is_stored(app, client):
    organiser(app)
    log_in(client)
    with app.app_context():
        [held] = db.session.execute(select(OrganiserSession)).scalars().all()
    assert len(held.id_hash) == 64 and held.id_hash not in (cookie(client) or "")


# --- No lockout by strangers ---------------------------------------------------------------

@pytest.fixture
def limited(database_url, mail_server, tmp_path):
    with fresh_app(database_url, mail_server, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as app:
        with app.app_context():
            make_organiser("org@example.com")
        yield app


def attempt(client, password, ip, email="org@example.com"):
    page = client.get(LOGIN, environ_base={"REMOTE_ADDR": ip})
    return client.post(LOGIN, environ_base={"REMOTE_ADDR": ip}, data={
        "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_forty_wrong_passwords_from_forty_addresses_do_not_lock_the_organiser_out(limited, monkeypatch):
    hold_the_login_clock(monkeypatch)
    organiser = limited.test_client()
    assert attempt(organiser, PASSWORD, "192.0.2.10").status_code == 303  # her own browser, known from now on
    press(organiser, "/organiser/logout")

    stranger = limited.test_client()
    answers = [attempt(stranger, f"guess {n}", f"198.51.100.{n}").status_code for n in range(40)]
    assert answers[:5] == [422] * 5
    assert set(answers[5:]) == {429}, "after five failures, browsers that never logged in here must wait"
    wait = attempt(stranger, PASSWORD, "198.51.100.99")
    assert wait.status_code == 429 and "Try again in" in wait.get_data(as_text=True)

    # Her browser, from her address, gets straight in with the right password.
    assert attempt(organiser, PASSWORD, "192.0.2.10").status_code == 303
    assert is_logged_in(organiser)


def test_the_wait_grows_with_each_failure_and_ends(limited):
    client = limited.test_client()
    with limited.app_context():
        db.session.add(LoginThrottle(login="org@example.com", failures=8, last_failed_at=utcnow()))
        db.session.commit()
    refused = attempt(client, PASSWORD, "198.51.100.1")
    assert refused.status_code == 429 and "Try again in 8 seconds" in refused.get_data(as_text=True)
    with limited.app_context():
        db.session.get(LoginThrottle, "org@example.com").last_failed_at = utcnow() - dt.timedelta(seconds=9)
        db.session.commit()
    assert attempt(client, PASSWORD, "198.51.100.1").status_code == 303, "a delay, never a lock"
    with limited.app_context():
        assert db.session.get(LoginThrottle, "org@example.com") is None, "its failures are forgiven"


def test_an_unknown_address_is_throttled_just_like_a_known_one(limited):
    """The brake says nothing of which addresses have accounts."""
    client = limited.test_client()
    known = [attempt(client, f"g{n}", f"198.51.100.{n}").status_code for n in range(7)]
    unknown = [attempt(client, f"g{n}", f"203.0.113.{n}", email="nobody@example.com").status_code
               for n in range(7)]
    assert known == unknown == [422] * 5 + [429] * 2


def test_the_organisers_own_browser_is_known_in_every_language(limited):
    """Logged in once in English, her browser is still hers on the Arabic
    login page, whatever strangers guessed meanwhile."""
    organiser = limited.test_client()
    assert attempt(organiser, PASSWORD, "192.0.2.10").status_code == 303
    press(organiser, "/organiser/logout")
    with limited.app_context():
        db.session.add(LoginThrottle(login="org@example.com", failures=20, last_failed_at=utcnow()))
        db.session.commit()
    page = organiser.get("/ar" + LOGIN, environ_base={"REMOTE_ADDR": "192.0.2.10"})
    answer = organiser.post("/ar" + LOGIN, environ_base={"REMOTE_ADDR": "192.0.2.10"}, data={
        "email": "org@example.com", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 303


def test_a_device_cookie_for_another_account_does_not_exempt(limited):
    with limited.app_context():
        make_organiser("other@example.com")
        db.session.add(LoginThrottle(login="org@example.com", failures=20, last_failed_at=utcnow()))
        db.session.commit()
    client = limited.test_client()
    assert attempt(client, PASSWORD, "192.0.2.20", email="other@example.com").status_code == 303
    assert attempt(client, PASSWORD, "192.0.2.20").status_code == 429


def test_deactivated_accounts_are_not_loaded_even_with_a_live_session_row(app, client):
    """Set inactive by any means (the command line, the database): refused at the next request."""
    organiser_id = organiser(app)
    log_in(client)
    with app.app_context():
        db.session.execute(db.update(Organiser).where(Organiser.id == organiser_id).values(active=False))
        db.session.commit()
    assert not is_logged_in(client)


def test_logging_in_forgets_ended_sessions_and_old_failures(app, client):
    organiser(app)
    for _ in range(3):
        log_in(client)
        press(client, "/organiser/logout")
    with app.app_context():
        db.session.add(LoginThrottle(login="someone@example.com", failures=3,
                                     last_failed_at=utcnow() - dt.timedelta(days=2)))
        db.session.add(LoginThrottle(login="recent@example.com", failures=3, last_failed_at=utcnow()))
        db.session.commit()
    log_in(client)
    with app.app_context():
        live = db.session.execute(select(OrganiserSession)).scalars().all()
        assert len(live) == 1 and live[0].ended_at is None
        assert db.session.execute(select(LoginThrottle.login)).scalars().all() == ["recent@example.com"]
