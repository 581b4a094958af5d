"""Organiser accounts, passwords and campaign membership."""
from __future__ import annotations

import hashlib
import string
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import account_mail
from .extensions import db
from .links import absolute_url
from .models import Campaign, Invitation, Membership, Organiser, utcnow

MIN_PASSWORD_LENGTH = 12
# Argon2id with OWASP's recommended minimum (19 MiB, 2 passes): slow for an
# attacker, yet it does not add 64 MiB to a web worker's memory per login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so a wrong address and a
    wrong password take the same time."""
    return _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    pass


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "common-passwords.txt"
    return frozenset(line for line in path.read_text(encoding="utf-8").splitlines()
                     if line and not line.startswith("#"))


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` will not do, or None: shorter than 12 characters, a
    common password (or one with only digits and symbols around it, like
    "Password2024!"), or the account's own address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    folded = password.strip().lower()
    core = folded.strip(string.digits + string.punctuation + " ")
    address = normalise_login(email)
    if folded in _common_passwords() or (len(core) >= 4 and core in _common_passwords()):
        return "This password is too common: choose one that others would not guess."
    if address and (folded == address or folded == address.partition("@")[0]):
        return "The password must not be your email address."
    return None


def normalise_login(email: str) -> str:
    return email.strip().lower()


def create_organiser(email: str, password: str, is_admin: bool = False) -> Organiser:
    """Create an organiser; raises AccountError for a password that will not
    do (see password_problem) or a taken address."""
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    organiser = Organiser(email=normalise_login(email), password_hash=_hasher.hash(password), is_admin=is_admin)
    db.session.add(organiser)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountError(f"An organiser with the address {email} already exists.") from None
    return organiser


def authenticate(email: str, password: str) -> Organiser | None:
    """The active organiser with this address and password, or None."""
    organiser = find_organiser(email)
    try:
        _hasher.verify(organiser.password_hash if organiser else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if organiser is None or not organiser.active:
        return None
    if _hasher.check_needs_rehash(organiser.password_hash):
        organiser.password_hash = _hasher.hash(password)
    organiser.last_login_at = utcnow()
    db.session.commit()
    return organiser


def password_is_right(organiser: Organiser, password: str) -> bool:
    """For confirming a sensitive change by a logged-in organiser."""
    try:
        return _hasher.verify(organiser.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_organiser(email: str) -> Organiser | None:
    return db.session.execute(
        select(Organiser).where(Organiser.email == normalise_login(email))
    ).scalar_one_or_none()


def add_member(organiser: Organiser, campaign: Campaign) -> bool:
    """Make an organiser a member of a campaign; False if already one."""
    if is_member(organiser, campaign):
        return False
    db.session.add(Membership(organiser_id=organiser.id, campaign_id=campaign.id))
    db.session.commit()
    return True


def remove_member(organiser: Organiser, campaign: Campaign) -> None:
    membership = db.session.get(Membership, (organiser.id, campaign.id))
    if membership is not None:
        db.session.delete(membership)
        db.session.commit()


def is_member(organiser: Organiser, campaign: Campaign) -> bool:
    return db.session.get(Membership, (organiser.id, campaign.id)) is not None


def can_manage(organiser: Organiser, campaign: Campaign) -> bool:
    return organiser.is_admin or is_member(organiser, campaign)


def campaigns_for(organiser: Organiser) -> list[Campaign]:
    """The campaigns an organiser may see: all for an admin."""
    query = select(Campaign).order_by(Campaign.created_at.desc())
    if not organiser.is_admin:
        query = query.join(Membership, Membership.campaign_id == Campaign.id).where(
            Membership.organiser_id == organiser.id
        )
    return list(db.session.execute(query).scalars())


def members_of(campaign: Campaign) -> list[Organiser]:
    return list(db.session.execute(
        select(Organiser).join(Membership, Membership.organiser_id == Organiser.id)
        .where(Membership.campaign_id == campaign.id).order_by(Organiser.email)
    ).scalars())


def all_organisers() -> list[Organiser]:
    return list(db.session.execute(select(Organiser).order_by(Organiser.email)).scalars())


# --- Setting a password from an emailed link ----------------------------------------

_RESET_SALT = "organiser-password-reset"
_INVITATION_SALT = "organiser-invitation"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(organiser: Organiser) -> str:
    """Changes with the password: a reset link stops working once used."""
    return hashlib.sha256(organiser.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Email a link to set a new password, if an active organiser has this
    address; nothing otherwise (the page says the same either way)."""
    organiser = find_organiser(email)
    if organiser is None or not organiser.active:
        return
    account_mail.queue_password_reset(organiser.email,
                                      absolute_url("organiser.reset_password", token=reset_token(organiser)),
                                      current_app.config["PASSWORD_RESET_MINUTES"])
    db.session.commit()


def reset_token(organiser: Organiser) -> str:
    """The token of a link that sets ``organiser``'s password (once, while fresh)."""
    return _serializer(_RESET_SALT).dumps([organiser.id, _fingerprint(organiser)])


def organiser_for_reset(token: str) -> Organiser | None:
    """The organiser a reset link is for, while it is fresh and unused."""
    try:
        organiser_id, fingerprint = _serializer(_RESET_SALT).loads(
            token, max_age=current_app.config["PASSWORD_RESET_MINUTES"] * 60)
    except (BadSignature, TypeError, ValueError):
        return None
    organiser = db.session.get(Organiser, organiser_id) if isinstance(organiser_id, int) else None
    if organiser is None or not organiser.active or fingerprint != _fingerprint(organiser):
        return None
    return organiser


def set_password(organiser: Organiser, password: str) -> None:
    """Raises AccountError for a password that will not do. The caller ends
    the organiser's sessions."""
    problem = password_problem(password, organiser.email)
    if problem:
        raise AccountError(problem)
    organiser.password_hash = _hasher.hash(password)
    db.session.commit()


def invite(email: str, invited_by: Organiser, campaign: Campaign | None = None, as_admin: bool = False) -> Invitation:
    """Invite an address to a campaign (or as an admin) and email it the link."""
    invitation = Invitation(email=normalise_login(email), campaign_id=campaign.id if campaign else None,
                            as_admin=as_admin, invited_by_id=invited_by.id)
    db.session.add(invitation)
    db.session.flush()
    days = current_app.config["INVITATION_DAYS"]
    account_mail.queue_invitation(invitation.email,
                                  absolute_url("organiser.accept_invitation", token=invitation_token(invitation)), days,
                                  campaign.title if campaign else None, as_admin, invited_by.email)
    db.session.commit()
    return invitation


def invitation_token(invitation: Invitation) -> str:
    return _serializer(_INVITATION_SALT).dumps(invitation.id)


def invitation_for(token: str) -> Invitation | None:
    """The invitation a link is for, while it is fresh and not yet accepted."""
    try:
        invitation_id = _serializer(_INVITATION_SALT).loads(
            token, max_age=current_app.config["INVITATION_DAYS"] * 86400)
    except (BadSignature, TypeError, ValueError):
        return None
    invitation = db.session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None
    return None if invitation is None or invitation.accepted_at is not None else invitation


def accept_invitation(invitation: Invitation, password: str | None) -> Organiser:
    """Accept once: create the account with ``password`` if the address has
    none (raises AccountError for a password that will not do), then grant
    what the invitation offers. A second acceptance raises AccountError."""
    claimed = db.session.execute(
        update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        raise AccountError("This invitation has already been accepted.")
    organiser = find_organiser(invitation.email)
    if organiser is None:
        problem = password_problem(password or "", invitation.email)
        if problem:
            db.session.rollback()
            raise AccountError(problem)
        organiser = Organiser(email=invitation.email, password_hash=_hasher.hash(password))
        db.session.add(organiser)
        db.session.flush()
    if invitation.as_admin:
        organiser.is_admin = True
    if invitation.campaign_id is not None and db.session.get(
            Membership, (organiser.id, invitation.campaign_id)) is None:
        db.session.add(Membership(organiser_id=organiser.id, campaign_id=invitation.campaign_id))
    db.session.commit()
    return organiser
