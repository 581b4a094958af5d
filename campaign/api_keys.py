"""API keys: an organiser's keys to the API, limited to campaigns and permissions (see api).

A key is shown once, when it is made, and kept only as its SHA-256: the
token carries 256 random bits, so a plain hash (no salt, no slow hash) is
enough to make the stored column useless to whoever reads it, and lets a
request find its key with one indexed lookup. The first characters are kept
too, so the organiser can tell their keys apart on the screen.

A key acts for its organiser: it stops working when it is revoked, when the
organiser is deactivated, and, for one campaign, when the organiser may no
longer manage that campaign (``may_use``)."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select, true, update
from sqlalchemy.orm import contains_eager

from .extensions import db
from .models import ApiKey, ApiKeyCampaign, Campaign, Membership, Organiser, utcnow
from .organisers import can_manage

PERMISSIONS = ("read_counts", "read_signers", "write_signatures", "confirm_signatures")
PERMISSION_LABELS = {
    "read_counts": _l("Read campaigns and their counts"),
    "read_signers": _l("Read signatures and signers' personal data"),
    "write_signatures": _l("Record signatures (each signer confirms by email)"),
    "confirm_signatures": _l("Record signatures as already confirmed (audited)"),
}

# Recognisable in a leaked log or a secret scanner's rules.
TOKEN_PREFIX = "csk_"
PREFIX_LENGTH = 10
# How stale last_used_at may be: one UPDATE a minute per key at most, not one per request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(organiser: Organiser, name: str, campaigns: list[Campaign],
               permissions: set[str]) -> tuple[ApiKey, str]:
    """A new key (added and flushed) and its token, to show once; the caller commits."""
    unknown = set(permissions) - set(PERMISSIONS)
    if unknown:
        raise ValueError(f"unknown permissions: {sorted(unknown)}")
    foreign = [campaign.id for campaign in campaigns if not can_manage(organiser, campaign)]
    if foreign:
        raise ValueError(f"campaigns the organiser cannot manage: {foreign}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(organiser_id=organiser.id, name=name.strip()[:100], prefix=token[:PREFIX_LENGTH],
                 token_hash=token_hash(token),
                 permissions=" ".join(p for p in PERMISSIONS if p in permissions),
                 created_at=utcnow())
    key.campaigns = list(campaigns)
    db.session.add(key)
    db.session.flush()
    return key, token


def revoke_key(key: ApiKey) -> None:
    """The key stops working at once; the caller commits."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()


def keys_of(organiser: Organiser) -> list[ApiKey]:
    """The organiser's keys, newest first, revoked ones included."""
    return list(db.session.execute(
        select(ApiKey).where(ApiKey.organiser_id == organiser.id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    ).scalars())


def authenticate(token: str) -> ApiKey | None:
    """The live key of an active organiser that ``token`` is, else None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return db.session.execute(
        select(ApiKey).join(ApiKey.organiser).options(contains_eager(ApiKey.organiser))
        .where(ApiKey.token_hash == token_hash(token), ApiKey.revoked_at.is_(None), Organiser.active.is_(True))
    ).scalar_one_or_none()


def permissions_of(key: ApiKey) -> frozenset[str]:
    return frozenset(key.permissions.split())


def has_permission(key: ApiKey, permission: str) -> bool:
    return permission in permissions_of(key)


def may_use(key: ApiKey, campaign: Campaign) -> bool:
    """Whether the key reaches this campaign: scoped to it and its organiser still manages it."""
    return any(c.id == campaign.id for c in key.campaigns) and can_manage(key.organiser, campaign)


def reach(key: ApiKey, campaign_id: int) -> tuple[Campaign | None, bool]:
    """The campaign ``campaign_id`` (None if there is none) and whether the
    key reaches it (as ``may_use``), in one query: every keyed request asks."""
    scoped = exists().where(ApiKeyCampaign.api_key_id == key.id, ApiKeyCampaign.campaign_id == Campaign.id)
    managed = true() if key.organiser.is_admin else exists().where(
        Membership.organiser_id == key.organiser_id, Membership.campaign_id == Campaign.id)
    row = db.session.execute(select(Campaign, and_(scoped, managed).label("reachable"))
                             .where(Campaign.id == campaign_id)).one_or_none()
    return (None, False) if row is None else (row[0], bool(row.reachable))


def campaigns_in_scope(key: ApiKey) -> list[Campaign]:
    """The key's campaigns its organiser still manages, by id."""
    return [campaign for campaign in key.campaigns if can_manage(key.organiser, campaign)]


def note_use(key: ApiKey, now: dt.datetime | None = None) -> None:
    """Stamp last_used_at when it is older than a minute: a guarded UPDATE, so
    a busy key writes once a minute and concurrent requests do not pile up
    writes. Commits its own small transaction when it wrote."""
    now = now or utcnow()
    stale = now - LAST_USED_PRECISION
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    result = db.session.execute(
        update(ApiKey).where(ApiKey.id == key.id,
                             (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at <= stale))
        .values(last_used_at=now).execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount:
        key.last_used_at = now
