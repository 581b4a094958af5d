"""The languages the site speaks, and which one a request is in.

The language is the first segment of a path (`/es/c/<slug>`, `/ar/`):
pages stay cacheable by a CDN, since one address is one language. A path
without one is in the site's default language, or for a campaign's pages
in the campaign's own default language. Links to pages are built in the
language of the page they are on; emailed links in the language of the
person they go to (``links.absolute_url(..., language=)``)."""
from __future__ import annotations

from flask import current_app, has_request_context
from flask_babel import get_locale

# Every language with a catalog in translations/; English is the source.
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "ar")
# Written right to left.
RIGHT_TO_LEFT = frozenset({"ar"})


def default_language() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def page_language() -> str:
    """The language of what is being rendered now (a page, or an email
    rendered under ``flask_babel.force_locale``)."""
    return str(get_locale()) if has_request_context() or get_locale() is not None else default_language()


def direction(language: str) -> str:
    """``rtl`` or ``ltr``, for ``<html dir>``."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def prefix(language: str | None) -> str:
    """The path segment that puts a page in ``language``: none for the
    site's default language."""
    if not language or language == default_language():
        return ""
    return f"/{language}"
