"""Campaign pages that a shared cache (a CDN) may keep for a few seconds.

A cached page is the same for every visitor, so it cannot carry a token
tied to one visitor's session, and it must not set a cookie. The public
forms therefore carry a *page token* instead: signed by us, the same for
everyone on one campaign for an hour, accepted for two days (so a page
cached or left open still works), and only on the campaign it was made for.
A page token proves the form came from our page; what stops cross-site
forgery is the browser's own word on where a POST comes from:
`Sec-Fetch-Site`, or else `Origin`, or else `Referer`, which scripts on other
sites cannot forge. A POST that says it comes from another site, or says
nothing at all, is refused.

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


def _scope() -> str:
    """What a token is for: the campaign whose page (or form) this request
    is about; the confirm page's own form has none."""
    return str((request.view_args or {}).get("slug", ""))


def page_token(scope: str | None = None) -> str:
    """This hour's token for ``scope`` (default: this request's campaign),
    made once per hour rather than once per page."""
    return _token_of_hour(current_app.config["SECRET_KEY"], _hour(), _scope() if scope is None else scope)


@lru_cache(maxsize=1024)
def _token_of_hour(secret: str, hour: int, scope: str) -> str:
    return URLSafeSerializer(secret, salt="public-page-form").dumps([hour, scope])


def page_token_is_valid(token: str | None, scope: str | None = None) -> bool:
    """Made by us within TOKEN_HOURS, for ``scope`` (default: this request's campaign)."""
    try:
        made = _serializer().loads(token or "")
    except BadSignature:
        return False
    if not (isinstance(made, list) and len(made) == 2 and isinstance(made[0], int)):
        return False
    hour, made_for = made
    return made_for == (_scope() if scope is None else scope) and 0 <= _hour() - hour <= TOKEN_HOURS


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def comes_from_this_site() -> bool:
    """True only when the browser says the request comes from this site:
    by `Sec-Fetch-Site` (every current browser) and `Origin` where either is
    sent, or else by `Referer`. A request that says none of them is refused: an old
    browser, or a privacy tool that strips all three, meets the friendly
    400 page rather than a forgery getting through."""
    site, origin = request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin")
    allowed = {_origin(request.host_url), _origin(current_app.config["SITE_URL"])}
    if site and site not in ("same-origin", "none"):
        return False
    if origin:
        return origin.lower() in allowed
    if site:
        return True
    referer = request.headers.get("Referer")
    if referer:
        try:
            return _origin(referer) in allowed
        except ValueError:
            return False
    return False


class PageCSRF(CSRF):
    """WTForms CSRF with the shared page token and the same-site check.
    ``scope``: what the token is for (default: the request's campaign); a
    subclass names its own pages' scope."""

    scope: str | None = None

    def generate_csrf_token(self, csrf_token_field) -> str:
        return page_token(self.scope)

    def validate_csrf_token(self, form, field) -> None:
        if not comes_from_this_site():
            raise ValidationError(_l("This form was sent from another site."))
        if not page_token_is_valid(field.data, self.scope):
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
