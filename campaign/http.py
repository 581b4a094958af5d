"""What every response gets: security headers, a request id, one log line."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .locales import path_segment

log = logging.getLogger("campaign.request")

# No inline script anywhere; the only script is our own file. Frames only
# from here (the sandboxed email previews, the embed page's preview), and
# nobody may frame us but where a view says so (see allow_framing).
NO_FRAMING = "frame-ancestors 'none'"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    NO_FRAMING,
])
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Path segments that are secrets (confirmation and unsubscribe tokens) are
# logged as their route, never as themselves.
_SECRET_ARGS = {"token"}
# Forms that may carry an image: a larger body is allowed there only.
UPLOAD_ENDPOINTS = {"organiser.new_campaign", "organiser.edit_campaign"}


def init_app(app: Flask) -> None:
    from .http_cache import PublicResponseCache

    # Inside ProxyFix, so the scheme and host it keys on are the visitor's.
    app.wsgi_app = PublicResponseCache(app.wsgi_app, app)
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        # Only then is X-Forwarded-For believed, and only that many hops of it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    # Registered before the extensions, so this runs before the CSRF check
    # reads the body.
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.config["UPLOAD_MAX_CONTENT_LENGTH"]
    g.request_started = time.perf_counter()
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID_PATTERN.match(offered) else uuid.uuid4().hex


_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def allow_framing(response: Response, sources: str) -> Response:
    """Let the sites ``sources`` (CSP frame-ancestors sources, checked by
    the caller) show this response in a frame: a campaign's embed page on
    its partners' sites (see embeds). Every other response keeps 'none'."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        NO_FRAMING, f"frame-ancestors {sources}")
    return response


def _finish(response: Response) -> Response:
    headers = response.headers
    present = {key.lower() for key, _value in headers}
    if "content-security-policy" in present and NO_FRAMING not in headers["Content-Security-Policy"]:
        # Framing allowed by the view (allow_framing): X-Frame-Options has
        # no way to name partner sites, and DENY would refuse them all.
        present.add("x-frame-options")
    # One pass over the headers, not one per header: this runs on every response.
    headers.extend([(key, value) for key, value in _SECURITY_HEADERS.items() if key.lower() not in present])
    if request.is_secure and _HSTS[0].lower() not in present:
        headers.add(*_HSTS)
    request_id = g.get("request_id") or uuid.uuid4().hex
    headers["X-Request-ID"] = request_id
    _log(response, request_id)
    return response


def _log(response: Response, request_id: str) -> None:
    rule = request.url_rule.rule if request.url_rule else None
    secret = bool(request.view_args and _SECRET_ARGS & request.view_args.keys())
    # The route, not the path, when the path holds a secret token; after
    # the address's language, if it names one (see locales).
    log_request(request_id, request.method, path_segment(request.environ) + (rule if secret else request.path),
                response.status_code, g.get("request_started"))


def log_request(request_id: str, method: str, path: str, status: int, started: float | None) -> None:
    """One JSON line per request; no client address, no token, no body."""
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(json.dumps({
        "request_id": request_id,
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    }))
