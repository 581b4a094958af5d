"""Who is asking the API, what they may do, how often, and the API's errors.

A request names its key in a header; the key is looked up once per request
(``current_key``) and kept in ``g``. The rate limit is one shared allowance
per key across every endpoint (RATELIMIT_API), and per client address for
requests without a valid key (RATELIMIT_API_PUBLIC): a stream of made-up
tokens is limited like any anonymous client. Errors are JSON, never the
site's HTML pages, and every answer to a keyed request is ``no-store``."""
from __future__ import annotations

import json
from functools import wraps

from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .. import api_keys
from ..extensions import limiter
from ..models import ApiKey, Campaign
from . import bp

TOKEN_HEADER = "OSDI-API-Token"
HAL_JSON = "application/hal+json"


class ApiError(Exception):
    """An answer other than success: its status, a message for the
    developer reading it, and, for bad input, a message per field."""

    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def error_response(status: int, message: str, errors: dict | None = None):
    body = {"status": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.status, error.message, error.errors)


def _http_error(error: HTTPException):
    messages = {
        400: _("The request could not be read."),
        404: _("There is nothing at this address."),
        405: _("This address does not take that method."),
        413: _("The request is too large."),
        429: _("Too many requests: wait a little, then try again."),
    }
    response = error_response(error.code or 500, messages.get(error.code, error.description or ""))
    if error.code == 429 and error.response is not None:  # Flask-Limiter's headers (Retry-After)
        for name in ("Retry-After",):
            if name in error.response.headers:
                response.headers[name] = error.response.headers[name]
    return response


def _server_error(error):
    return error_response(500, _("Something went wrong on our side."))


# By status, as the site's own pages are (a handler by status wins over one by class).
for _status in (400, 404, 405, 413, 429):
    bp.register_error_handler(_status, _http_error)
bp.register_error_handler(500, _server_error)


def token_of_request() -> str | None:
    """The token the request sends: ``OSDI-API-Token``, else ``Authorization: Bearer``."""
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if token:
        return token
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_key() -> ApiKey | None:
    """The live key the request sent, once per request; None without one
    (or with a token that is no live key: see require_key)."""
    if "api_key" not in g:
        token = token_of_request()
        g.api_token_sent = token is not None
        g.api_key = api_keys.authenticate(token) if token else None
        if g.api_key is not None:
            api_keys.note_use(g.api_key)
    return g.api_key


def require_key(permission: str | None = None) -> ApiKey:
    """The request's key, with ``permission`` if one is named: 401 without a
    live key, 403 without the permission."""
    key = current_key()
    if key is None:
        if g.api_token_sent:
            raise ApiError(401, _("This API key is not valid: it may have been revoked."))
        raise ApiError(401, _("Send an API key in the OSDI-API-Token header (or Authorization: Bearer)."))
    if permission is not None and not api_keys.has_permission(key, permission):
        raise ApiError(403, _("This API key does not have the permission %(permission)s.", permission=permission))
    return key


def keyed(permission: str | None = None):
    """A view that needs a key (with ``permission`` if named)."""
    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            require_key(permission)
            return view(*args, **kwargs)
        return inner
    return wrap


def campaign_of_key(key: ApiKey, campaign_id: int) -> Campaign:
    """The campaign ``campaign_id`` if the key reaches it: 404 if there is
    none, 403 if it is not among the key's campaigns (or its organiser no
    longer manages it)."""
    campaign, reachable = api_keys.reach(key, campaign_id)
    if campaign is None:
        raise ApiError(404, _("There is no campaign %(id)s.", id=campaign_id))
    if not reachable:
        raise ApiError(403, _("This API key does not give access to campaign %(id)s.", id=campaign_id))
    return campaign


def hal(body: dict, status: int = 200):
    """A HAL+JSON response: keys in the order the resource lists them (not
    sorted, which was a tenth of a page's time), compact, UTF-8."""
    return current_app.response_class(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                                      status=status, mimetype=HAL_JSON)


# --- Rate limits ---------------------------------------------------------------

def _limit() -> str:
    config = current_app.config
    return config["RATELIMIT_API"] if current_key() is not None else config["RATELIMIT_API_PUBLIC"]


def _limit_key() -> str:
    key = current_key()
    return f"api-key:{key.id}" if key is not None else f"api-address:{request.remote_addr or ''}"


# One allowance per key (or per address without one) for the whole API.
limiter.shared_limit(_limit, scope="api", key_func=_limit_key)(bp)


@bp.after_request
def _no_store_when_keyed(response):
    """What a key reads is for that key alone: no cache keeps it. The
    answers without a key say how they may be kept themselves."""
    if g.get("api_token_sent") or "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    response.vary.update((TOKEN_HEADER, "Authorization"))
    return response
