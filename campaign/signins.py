"""Organisers signing in: sessions the server can end, and a brake on
guessing passwords that no stranger can turn into a lockout.

A session is a row (``organiser_session``) whose random id travels in the
signed session cookie; only its hash is stored. Every request checks it with
the organiser's ``active`` flag in one query, so "Log out" ends that session
at once, "Log out everywhere" and deactivation end them all, and a session
idle for ORGANISER_IDLE_MINUTES or older than ORGANISER_SESSION_HOURS ends
by itself. Logging in starts a fresh session cookie (and so a fresh CSRF
token).

Failed logins are counted per address, known or not (nothing tells whether
an address has an account). After LOGIN_FAILURES_BEFORE_DELAY of them, an
attempt must wait a delay that doubles with each further failure, up to
LOGIN_DELAY_MAX_SECONDS; a browser that has logged in to that account before
(it holds a signed device cookie) is exempt, so the real organiser is never
locked out by someone else's guesses. The per-IP and per-account-and-IP
limits (Flask-Limiter) stand beside it."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from .extensions import db, dialect_insert
from .models import LoginThrottle, Organiser, OrganiserSession, utcnow

DEVICE_COOKIE = "organiser_device"
_DEVICE_SALT = "organiser-device"
# A session's last_seen_at is written at most this often (not on every request).
_SEEN_EVERY = dt.timedelta(seconds=60)


def _hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


# --- Sessions -------------------------------------------------------------------------

def start_session(organiser: Organiser) -> str:
    """A new session for ``organiser``; returns the id for the session
    cookie. Their sessions that have ended (or can no longer be used) are
    forgotten, so the table holds only live ones and a few of each."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    config = current_app.config
    db.session.execute(delete(OrganiserSession).where(
        OrganiserSession.organiser_id == organiser.id,
        OrganiserSession.ended_at.is_not(None)
        | (OrganiserSession.last_seen_at <= now - dt.timedelta(minutes=config["ORGANISER_IDLE_MINUTES"]))
        | (OrganiserSession.created_at <= now - dt.timedelta(hours=config["ORGANISER_SESSION_HOURS"]))))
    db.session.add(OrganiserSession(id_hash=_hashed(session_id), organiser_id=organiser.id, created_at=now,
                                    last_seen_at=now))
    db.session.commit()
    return session_id


def organiser_of_session(organiser_id: int, session_id: str | None) -> Organiser | None:
    """The organiser whose live session this is, if it is one: not ended,
    not idle too long or too old, and the organiser still active."""
    if not session_id:
        return None
    config = current_app.config
    now = utcnow()
    row = db.session.execute(
        select(Organiser, OrganiserSession.last_seen_at)
        .join(OrganiserSession, OrganiserSession.organiser_id == Organiser.id)
        .where(OrganiserSession.id_hash == _hashed(session_id), Organiser.id == organiser_id,
               OrganiserSession.ended_at.is_(None), Organiser.active.is_(True),
               OrganiserSession.last_seen_at > now - dt.timedelta(minutes=config["ORGANISER_IDLE_MINUTES"]),
               OrganiserSession.created_at > now - dt.timedelta(hours=config["ORGANISER_SESSION_HOURS"]))
    ).one_or_none()
    if row is None:
        return None
    organiser, last_seen_at = row
    if now - last_seen_at > _SEEN_EVERY:
        db.session.execute(update(OrganiserSession).where(OrganiserSession.id_hash == _hashed(session_id))
                           .values(last_seen_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    return organiser


def end_session(session_id: str | None) -> None:
    if session_id:
        db.session.execute(update(OrganiserSession)
                           .where(OrganiserSession.id_hash == _hashed(session_id), OrganiserSession.ended_at.is_(None))
                           .values(ended_at=utcnow()).execution_options(synchronize_session=False))
        db.session.commit()


def end_all_sessions(organiser: Organiser) -> None:
    """Every session of ``organiser`` ends now (log out everywhere, deactivation)."""
    db.session.execute(update(OrganiserSession)
                       .where(OrganiserSession.organiser_id == organiser.id, OrganiserSession.ended_at.is_(None))
                       .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


def end_other_sessions(organiser: Organiser, session_id: str | None) -> None:
    """Every session of ``organiser`` but this one ends now (two-factor
    turned on: a session that began without it should not outlive it)."""
    db.session.execute(update(OrganiserSession)
                       .where(OrganiserSession.organiser_id == organiser.id, OrganiserSession.ended_at.is_(None),
                              OrganiserSession.id_hash != _hashed(session_id or ""))
                       .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


def set_active(organiser: Organiser, active: bool) -> None:
    """Deactivate (ending every session at once) or reactivate an organiser."""
    organiser.active = active
    db.session.commit()
    if not active:
        end_all_sessions(organiser)


# --- The brake on guessing -------------------------------------------------------------

def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)


def device_cookie_for(login: str) -> str:
    """The signed value a browser keeps once it has logged in to ``login``."""
    return _devices().dumps(login)


def is_known_device(login: str, cookie: str | None) -> bool:
    if not cookie:
        return False
    try:
        known = _devices().loads(cookie, max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400)
    except BadSignature:
        return False
    return known == login


def seconds_to_wait(login: str, known_device: bool) -> int:
    """How long an attempt on ``login`` must still wait (0: go ahead)."""
    if known_device:
        return 0
    throttle = db.session.get(LoginThrottle, login)
    config = current_app.config
    if throttle is None or throttle.failures < config["LOGIN_FAILURES_BEFORE_DELAY"]:
        return 0
    delay = min(2 ** (throttle.failures - config["LOGIN_FAILURES_BEFORE_DELAY"]), config["LOGIN_DELAY_MAX_SECONDS"])
    waited = (utcnow() - throttle.last_failed_at).total_seconds()
    return max(0, int(delay - waited + 0.999))


def record_failure(login: str) -> None:
    now = utcnow()
    insert = dialect_insert(LoginThrottle).values(login=login, failures=1, last_failed_at=now)
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["login"], set_={"failures": LoginThrottle.failures + 1, "last_failed_at": now}))
    db.session.commit()


def record_success(login: str) -> None:
    """The address's failures are forgiven, and failures a day old at any
    address forgotten (the table holds only recent guessing)."""
    db.session.execute(delete(LoginThrottle).where(
        (LoginThrottle.login == login) | (LoginThrottle.last_failed_at <= utcnow() - dt.timedelta(days=1))))
    db.session.commit()
