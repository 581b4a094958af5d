"""Signed tokens that name a signature in emailed links (confirm,
unsubscribe), or a business pledge in the link that confirms it. Each
purpose has its own salt, so one cannot stand in for the other."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, Serializer, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from .extensions import db
from .links import absolute_url
from .models import Signature

CONFIRM = "confirm-signature"
UNSUBSCRIBE = "unsubscribe"
CONFIRM_BUSINESS = "confirm-business"
# The page each purpose's links open.
_ENDPOINTS = {CONFIRM: "public.confirm", UNSUBSCRIBE: "public.unsubscribe",
              CONFIRM_BUSINESS: "public.business_confirm"}
# Purposes whose tokens carry the time they were made, so that they expire.
_TIMED = {CONFIRM_BUSINESS}


def _serializer(purpose: str) -> Serializer:
    serializer = URLSafeTimedSerializer if purpose in _TIMED else URLSafeSerializer
    return serializer(current_app.config["SECRET_KEY"], salt=purpose)


def token_for(purpose: str, signature_id: int) -> str:
    return _serializer(purpose).dumps(signature_id)


def links_for(purpose: str) -> Callable[[int], str]:
    """A signature's (or business entry's) absolute link of ``purpose``, for
    many of them: the URL is built once, each link only signs its id."""
    marker = "0TOKEN0"
    url = absolute_url(_ENDPOINTS[purpose], token=marker)
    serializer = _serializer(purpose)
    return lambda signature_id: url.replace(marker, serializer.dumps(signature_id))


def signature_id_for(purpose: str, token: str) -> int | None:
    """The signature id a token names, or None if it is forged; no database read."""
    try:
        signature_id = _serializer(purpose).loads(token)
    except BadSignature:
        return None
    if not isinstance(signature_id, int) or isinstance(signature_id, bool):
        return None
    return signature_id


def signature_for(purpose: str, token: str) -> Signature | None:
    """The signature a token names, or None if it is forged or gone."""
    signature_id = signature_id_for(purpose, token)
    return None if signature_id is None else db.session.get(Signature, signature_id)


@dataclass(frozen=True)
class BusinessLink:
    """What a link that confirms a business pledge says: which entry, and
    whether it is older than BUSINESS_CONFIRM_DAYS."""
    business_id: int
    expired: bool


def business_link(token: str) -> BusinessLink | None:
    """The business entry a confirm-business token names, or None if it is
    forged (or made for another purpose); no database read. An expired
    token is still ours: its page says so rather than "not found"."""
    serializer = _serializer(CONFIRM_BUSINESS)
    max_age = current_app.config["BUSINESS_CONFIRM_DAYS"] * 86400
    try:
        business_id, expired = serializer.loads(token, max_age=max_age), False
    except SignatureExpired as exc:  # the signature checked out; only its age did not
        try:
            business_id, expired = serializer.load_payload(exc.payload), True
        except BadSignature:
            return None
    except BadSignature:
        return None
    if not isinstance(business_id, int) or isinstance(business_id, bool):
        return None
    return BusinessLink(business_id, expired)
