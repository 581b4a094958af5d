"""Absolute links for emails, share buttons and search engines, built from
SITE_URL so they are right whether or not a request is being served (the
worker, the CLI)."""
from flask import current_app, request

from .locales import path_segment, prefix


def absolute_url(endpoint: str, language: str | None = None, unprefixed: str | None = None, **values) -> str:
    """The public URL of ``endpoint``, rooted at SITE_URL, in ``language``
    (None: the address without a language). Emailed links name the
    language of the person they go to. A campaign's /c/<slug> pages are in
    the campaign's own default language at an address without one: a link
    to one passes that as ``unprefixed``, so that, say, English there is
    /en/c/<slug> when the campaign is written in Spanish."""
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values)
    return current_app.config["SITE_URL"].rstrip("/") + prefix(language, unprefixed) + path


def page_url(endpoint: str, **values) -> str:
    """The public URL of ``endpoint`` in the form of the page being served:
    with its address's language segment, or without one if it has none. A
    page's canonical address (see public/previews) is its own, so each
    language's page is found as itself."""
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values)
    return current_app.config["SITE_URL"].rstrip("/") + path_segment(request.environ) + path
