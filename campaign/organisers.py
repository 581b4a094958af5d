"""Organiser accounts, passwords and campaign membership."""
from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Campaign, Membership, Organiser, utcnow

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


def normalise_login(email: str) -> str:
    return email.strip().lower()


def create_organiser(email: str, password: str, is_admin: bool = False) -> Organiser:
    """Create an organiser; raises AccountError for a short password or a taken address."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
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
