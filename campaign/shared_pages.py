"""Campaign pages that a shared cache (a CDN) may keep for a few seconds.

A cached page is the same for every visitor, so it cannot carry a token
tied to one visitor's session, and it must not set a cookie. The public
forms therefore carry a *page token* instead: signed by us, the same for
everyone for an hour, and accepted for two days (so a page cached or left
open still works). A page token proves the form came from our page; what
stops cross-site forgery is the browser's own word on where a POST comes
from: `Sec-Fetch-Site` and `Origin`, which scripts on other sites cannot
forge. A POST that says it comes from another site is refused.

These pages never look at the session (Flask would then add `Vary: Cookie`):
a visitor with a cookie, a logged-in organiser included, gets the same copy
as everyone, from our own cache and from a CDN alike."""
from __future__ import annotations

import time
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

from .http_cache import READ_AT

TOKEN_HOURS = 48


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="public-page-form")


def _hour() -> int:
    return int(time.time() // 3600)


def page_token() -> str:
    """This hour's token, made once per hour rather than once per page."""
    return _token_of_hour(current_app.config["SECRET_KEY"], _hour())


@lru_cache(maxsize=4)
def _token_of_hour(secret: str, hour: int) -> str:
    return URLSafeSerializer(secret, salt="public-page-form").dumps(hour)


def page_token_is_valid(token: str | None) -> bool:
    try:
        hour = _serializer().loads(token or "")
    except BadSignature:
        return False
    return isinstance(hour, int) and 0 <= _hour() - hour <= TOKEN_HOURS


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def comes_from_this_site() -> bool:
    """False when the browser says the request comes from another site."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {_origin(request.host_url), _origin(current_app.config["SITE_URL"])}
    return origin.lower() in allowed


class PageCSRF(CSRF):
    """WTForms CSRF with the shared page token and the same-site check."""

    def generate_csrf_token(self, csrf_token_field) -> str:
        return page_token()

    def validate_csrf_token(self, form, field) -> None:
        if not comes_from_this_site():
            raise ValidationError(_l("This form was sent from another site."))
        if not page_token_is_valid(field.data):
            raise ValidationError(_l("This form has expired."))


def cache_publicly(response: Response, read_at: float | None = None) -> Response:
    """Let shared caches keep the response briefly, browsers revalidate every
    time (a 304 when the ETag matches). ``read_at``: when what it shows was
    read (time.monotonic()). With each process's own copy (see
    campaign/http_cache) and what it read (campaign/page_reads), a count is
    never older than the longer of PUBLIC_MICROCACHE_SECONDS and
    PUBLIC_LIVE_SECONDS, plus PUBLIC_CACHE_SECONDS + PUBLIC_STALE_SECONDS:
    within the 5 seconds promised."""
    if read_at is not None:
        request.environ[READ_AT] = read_at
    config = current_app.config
    response.headers["Cache-Control"] = (
        f"public, max-age=0, s-maxage={config['PUBLIC_CACHE_SECONDS']}, "
        f"stale-while-revalidate={config['PUBLIC_STALE_SECONDS']}")
    response.add_etag()
    if "If-None-Match" not in request.headers:  # nothing to compare: skip the work
        return response
    return response.make_conditional(request)
