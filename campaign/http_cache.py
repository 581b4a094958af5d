"""The site's own small shared cache, in front of Flask in each process.

Campaign pages and count.json are the same for every visitor and say so
(`Cache-Control: public`); a CDN may keep them for a few seconds. Without a
CDN, a launch-day spike still sends thousands of identical GETs a second to
each process. This middleware answers them from a copy kept for
PUBLIC_MICROCACHE_SECONDS, without running Flask's request machinery
(session, extensions, hooks): the same bytes and headers, a fresh request
id, the same log line, and a 304 when the visitor's ETag still matches.

Only what a shared cache could store is stored: a 200 to a GET without
Authorization, from a campaign page or count.json, marked public, setting
no cookie. These pages read no cookie (not even the session), so a cookie
does not take a request past the copy: a stray cookie, or one an attacker
adds to every request, gets the same copy as everyone. The copy is keyed by
address alone, its language segment included (SCRIPT_NAME, see locales: `/c/x`
and `/es/c/x` are two pages): these views read no query string, and shared
links arrive with all sorts (`?utm_source=...`). A page at an address
without a language was chosen by Accept-Language (see locales): its copy
serves only the visitors who would not be redirected, and the others go on
to the app and its redirect. A copy is kept PUBLIC_MICROCACHE_SECONDS from
when what it shows was read (see page_reads), so it is never older than
that. Nothing here is needed by another process."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_etags, unquote_etag

from .http import REQUEST_ID_PATTERN, log_request
from .locales import CHOSEN_BY_ACCEPT_LANGUAGE, path_segment, preferred_in_environ

# The responses that are the same for everyone (see campaign/shared_pages);
# a campaign's embed page too, whichever partner site frames it.
CACHEABLE_ENDPOINTS = {"public.campaign_page", "public.count_json", "public.embed"}
# Where a view leaves the time.monotonic() at which its data was read.
READ_AT = "campaign.read_at"


class _Capture:
    """What the wrapped app passed to start_response."""

    status = ""
    headers: list[tuple[str, str]] = []

    def __call__(self, start_response: Callable) -> Callable:
        def capture(status, headers, exc_info=None):
            self.status, self.headers = status, headers
            return start_response(status, headers, exc_info)
        return capture


class PublicResponseCache:
    MAX_ENTRIES = 1000

    def __init__(self, wsgi_app: Callable, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app
        # key -> (fresh until, status, headers without the request id, body, etag,
        # the languages Accept-Language chose between, if it did)
        self._entries: dict[tuple, tuple[float, str, list, bytes, str, tuple]] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        seconds = self.app.config["PUBLIC_MICROCACHE_SECONDS"]
        method = environ["REQUEST_METHOD"]
        if seconds <= 0 or method not in ("GET", "HEAD") or "HTTP_AUTHORIZATION" in environ:
            return self.wsgi_app(environ, start_response)
        key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME"),
               environ.get("PATH_INFO"))
        entry = self._entries.get(key)
        if entry is not None and entry[5] and preferred_in_environ(environ, entry[5]):
            return self.wsgi_app(environ, start_response)  # redirected to their language
        if entry is not None:
            now = time.monotonic()
            if entry[0] > now or not self._claim_refresh(key, entry, now, seconds):
                return self._answer(environ, start_response, entry)
        if method == "HEAD" or not self._cacheable(environ):
            return self.wsgi_app(environ, start_response)
        capture = _Capture()
        response = self.wsgi_app(environ, capture(start_response))
        try:
            body = b"".join(response)
        finally:
            if hasattr(response, "close"):
                response.close()
        self._store(key, seconds, capture, body, environ.get(READ_AT), environ.get(CHOSEN_BY_ACCEPT_LANGUAGE, ()))
        return [body]

    def _claim_refresh(self, key: tuple, entry: tuple, now: float, seconds: float) -> bool:
        """True for the one request that renders an expired copy afresh; the
        others meanwhile get the old copy (a moment older) instead of all
        rendering it at once."""
        with self._lock:
            if self._entries.get(key) is not entry:
                return False  # another request has already refreshed or claimed it
            self._entries[key] = (now + seconds, *entry[1:])
            return True

    def _cacheable(self, environ: dict) -> bool:
        try:
            endpoint, _ = self.app.url_map.bind_to_environ(environ).match()
        except HTTPException:
            return False
        return endpoint in CACHEABLE_ENDPOINTS

    def _store(self, key: tuple, seconds: float, capture: _Capture, body: bytes, read_at: float | None,
               languages: tuple) -> None:
        headers = [(name, value) for name, value in capture.headers if name.lower() != "x-request-id"]
        names = {name.lower(): value for name, value in headers}
        if (not capture.status.startswith("200") or "set-cookie" in names
                or "public" not in names.get("cache-control", "") or "etag" not in names):
            # Not for sharing (a campaign taken down, the database away): no
            # copy, not even the previous one.
            with self._lock:
                self._entries.pop(key, None)
            return
        now = time.monotonic()
        fresh_until = min(now, read_at or now) + seconds
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (fresh_until, capture.status, headers, body, names["etag"], languages)

    def _answer(self, environ: dict, start_response: Callable, entry: tuple) -> Iterable[bytes]:
        started = time.perf_counter()
        _, status, headers, body, etag, _languages = entry
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = offered if REQUEST_ID_PATTERN.match(offered) else uuid.uuid4().hex
        if "HTTP_IF_NONE_MATCH" in environ and parse_etags(environ["HTTP_IF_NONE_MATCH"]).contains_weak(
                unquote_etag(etag)[0]):
            status, body = "304 NOT MODIFIED", b""
            headers = [(n, v) for n, v in headers if n.lower() not in ("content-length", "content-type")]
        start_response(status, [*headers, ("X-Request-ID", request_id)])
        log_request(request_id, environ["REQUEST_METHOD"], path_segment(environ) + environ.get("PATH_INFO", ""),
                    int(status[:3]), started)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
