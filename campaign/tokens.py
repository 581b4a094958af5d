"""Signed tokens that name a signature in emailed links (confirm,
unsubscribe), or a business entry in the link that confirms it; and the
token of the thank-you page's "send it again" button, which names the
address a person just signed with; and the link to a signer's own "your
impact" page. Each purpose has its own salt, so one cannot stand in for
the other."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from .extensions import db
from .links import absolute_url
from .models import Signature

CONFIRM = "confirm-signature"
UNSUBSCRIBE = "unsubscribe"
CONFIRM_BUSINESS = "confirm-business"
RESEND = "resend-confirmation"
# A freeze's "Did you take part?": the link names the signature that answers.
CHECK_IN = "check-in"
# The page each purpose's links open.
_ENDPOINTS = {CONFIRM: "public.confirm", UNSUBSCRIBE: "public.unsubscribe",
              CONFIRM_BUSINESS: "public.business_confirm", CHECK_IN: "public.check_in"}


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def token_for(purpose: str, signature_id: int) -> str:
    return _serializer(purpose).dumps(signature_id)


def links_for(purpose: str, language: str | None = None) -> Callable[[int], str]:
    """A signature's (or business entry's) absolute link of ``purpose``, in
    ``language``, for many of them: the URL is built once, each link only
    signs its id."""
    marker = "0TOKEN0"
    url = absolute_url(_ENDPOINTS[purpose], language=language, token=marker)
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


def resend_token(campaign_id: int, email: str) -> str:
    """The token of a "send the email again" button: the campaign and the
    address as the signer typed it, signed and dated. Only the answer to
    that person's own sign POST carries it, so only they can press it, and
    it can ask for nothing but another email to that same address."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESEND).dumps([campaign_id, email])


def resend_request(token: str, max_age_seconds: int) -> tuple[int, str] | None:
    """(campaign id, address) from a resend token made within
    ``max_age_seconds``, or None if it is forged, expired or malformed."""
    try:
        made = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESEND).loads(
            token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is one
        return None
    if not (isinstance(made, list) and len(made) == 2 and isinstance(made[0], int)
            and not isinstance(made[0], bool) and isinstance(made[1], str)):
        return None
    return made[0], made[1]


# A business pledge's "extend our pause" link: dated, for it must stop
# working one day (see business_pauses), unlike the confirm link, whose
# life the database keeps.
EXTEND_BUSINESS = "extend-business-pause"


def _extend_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EXTEND_BUSINESS)


def extend_token(business_id: int) -> str:
    return _extend_serializer().dumps(business_id)


def extend_links(language: str | None = None) -> Callable[[int], str]:
    """A business entry's absolute extend link, for many of them (as links_for)."""
    marker = "0TOKEN0"
    url = absolute_url("public.business_extend", language=language, token=marker)
    serializer = _extend_serializer()
    return lambda business_id: url.replace(marker, serializer.dumps(business_id))


def extend_business_id(token: str, max_age_seconds: int) -> int | None:
    """The entry an extend token made within ``max_age_seconds`` names, or
    None if it is forged, expired, or made for another purpose."""
    try:
        business_id = _extend_serializer().loads(token, max_age=max_age_seconds)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(business_id, int) or isinstance(business_id, bool):
        return None
    return business_id


# A signer's "your impact" page, linked from later emails: the token names
# the signature (its campaign is in the path and must match), and the page
# shows nothing but that signer's own share link and count.
IMPACT = "signer-impact"


def impact_links(campaign, language: str | None = None) -> Callable[[int], str]:
    """The absolute impact links of ``campaign``'s signatures, for many of
    them (as links_for)."""
    marker = "0TOKEN0"
    url = absolute_url("public.impact", language=language, unprefixed=campaign.default_language,
                       slug=campaign.slug, token=marker)
    serializer = _serializer(IMPACT)
    return lambda signature_id: url.replace(marker, serializer.dumps(signature_id))
