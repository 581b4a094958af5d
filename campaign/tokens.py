"""Signed tokens that name a signature in emailed links (confirm,
unsubscribe), or a business entry in the link that confirms it. Each
purpose has its own salt, so one cannot stand in for the other."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from .extensions import db
from .links import absolute_url
from .models import Signature

CONFIRM = "confirm-signature"
UNSUBSCRIBE = "unsubscribe"
CONFIRM_BUSINESS = "confirm-business"
# The page each purpose's links open.
_ENDPOINTS = {CONFIRM: "public.confirm", UNSUBSCRIBE: "public.unsubscribe",
              CONFIRM_BUSINESS: "public.business_confirm"}


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=purpose)


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
    """The id (of a signature, or of a business entry) a token names, or None
    if it is forged or made for another purpose; no database read. Confirm
    links expire by what the database says of the email that carried them
    (CONFIRM_LINK_DAYS after it), not by the token."""
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
