"""The languages the site speaks, and which one a request is in.

The language is the first segment of a path (`/es/c/<slug>`, `/ar/`):
pages stay cacheable by a CDN, since one address is one language. A path
without one is in the site's default language, or for a campaign's pages
in the campaign's own default language (``use_language``). Links to pages
are built in the language of the page they are on; emailed links in the
language of the person they go to (``links.absolute_url(..., language=)``).

``LanguageInPath``, the outermost WSGI middleware, moves the segment from
PATH_INFO to SCRIPT_NAME: the routes know nothing of languages, and
``url_for`` builds every link under the segment of the page it is on, so a
visitor who arrived in Spanish stays in Spanish. Files that are the same
in every language (static files, campaign images, the site's icon) are the
exception (``url_for`` in templates, see ``SAME_IN_EVERY_LANGUAGE``): they
keep one address, so browsers and CDNs keep one copy.

``Accept-Language`` never chooses what an address shows, only where two
kinds of address send a visitor who has not chosen yet: `/` and a bare
`/c/<slug>` redirect to the language the browser prefers, if the site (or
the campaign) has it and it is not what the bare address shows. The
redirect is personal (``private, no-store``); the bare page itself stays
public and says ``Vary: Accept-Language``. An address with a language
never redirects, and the switcher's links always carry one, so a visitor
who picks a language keeps it."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from flask import Flask, Response, current_app, has_request_context, redirect, request, request_started, url_for
from flask_babel import get_locale, refresh
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

# Every language with a catalog in translations/; English is the source.
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "ar")
# Written right to left.
RIGHT_TO_LEFT = frozenset({"ar"})
# Each language named in itself, as the switcher offers it: a reader looks
# for their own language's name, whatever the page is in.
NAMES = {"en": "English", "es": "Español", "fr": "Français", "ar": "العربية"}

# Endpoints whose files are the same in every language: templates link
# them at their one address, without a language.
SAME_IN_EVERY_LANGUAGE = frozenset({"static", "public.media", "public.favicon"})

# What LanguageInPath leaves in the WSGI environ: the language the path
# named, and SCRIPT_NAME as it was before the language was moved into it
# (where the pages of every language hang).
PATH_LANGUAGE = "campaign.path_language"
SITE_ROOT = "campaign.site_root"
# Where a page whose address names no language leaves the languages it
# chose between by Accept-Language, its own first (see http_cache).
CHOSEN_BY_ACCEPT_LANGUAGE = "campaign.chosen_by_accept_language"
# What a view chose for this request (use_language, offer_languages): kept
# in the environ, which is the request's own (g may outlive it, in tests).
LANGUAGE_WITHOUT_PREFIX = "campaign.language_without_prefix"
OFFERED_LANGUAGES = "campaign.offered_languages"


def init_app(app: Flask) -> None:
    """The middleware, outside every other one (so the response cache keys
    on SCRIPT_NAME too), and what templates need of languages."""
    app.wsgi_app = LanguageInPath(app.wsgi_app)
    request_started.connect(_forget_the_language_of_an_earlier_request, app)
    env = app.jinja_env
    env.globals["url_for"] = _url_for_in_templates
    env.globals["page_language"] = page_language
    env.globals["text_direction"] = lambda: direction(page_language())
    env.globals["language_links"] = language_links


class LanguageInPath:
    """WSGI middleware: ``/es/c/x`` is the page ``/c/x`` in Spanish. The
    segment moves from PATH_INFO to SCRIPT_NAME and the language is noted
    in the environ (PATH_LANGUAGE), where the locale selector finds it.
    ``/es`` alone is left with an empty PATH_INFO, which routing redirects
    to ``/es/`` (a 308 made by the app, with its headers)."""

    def __init__(self, wsgi_app: Callable):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        language, slash, rest = path[1:].partition("/")
        if path[:1] == "/" and language in LANGUAGES:
            root = environ.get("SCRIPT_NAME", "")
            environ[SITE_ROOT] = root
            environ[PATH_LANGUAGE] = language
            environ["SCRIPT_NAME"] = f"{root}/{language}"
            environ["PATH_INFO"] = slash + rest
        return self.wsgi_app(environ, start_response)


# --- Which language -------------------------------------------------------------------

def _forget_the_language_of_an_earlier_request(sender: Flask, **extra) -> None:
    """Flask-Babel keeps the locale it chose in ``g``, which requests made
    inside one application context (a test's) share: each request chooses
    afresh."""
    refresh()


def default_language() -> str:
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def selected_language() -> str | None:
    """Flask-Babel's locale selector: the language the address names, else
    the one a view chose for an address without one (``use_language``),
    else None (the site's default)."""
    if not has_request_context():
        return None
    return request.environ.get(PATH_LANGUAGE) or request.environ.get(LANGUAGE_WITHOUT_PREFIX)


def use_language(language: str | None) -> None:
    """Put this request's page, if its address names no language, in
    ``language``: a campaign's ``/c/<slug>`` is in the campaign's own
    default language. An address with a language keeps it."""
    if language in LANGUAGES and request.environ.get(LANGUAGE_WITHOUT_PREFIX) != language:
        request.environ[LANGUAGE_WITHOUT_PREFIX] = language
        refresh()


def page_language() -> str:
    """The language of what is being rendered now (a page, or an email
    rendered under ``flask_babel.force_locale``)."""
    return str(get_locale()) if has_request_context() or get_locale() is not None else default_language()


def direction(language: str) -> str:
    """``rtl`` or ``ltr``, for ``<html dir>``."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def prefix(language: str | None, unprefixed: str | None = None) -> str:
    """The path segment that puts a page in ``language``: none for the
    language its address without one is in (``unprefixed``: a campaign's
    own default for its /c/<slug> pages; the site's default otherwise)."""
    if not language or language == (unprefixed or default_language()):
        return ""
    return f"/{language}"


def language_in_path() -> str | None:
    """The language this request's address names, if it names one."""
    return request.environ.get(PATH_LANGUAGE) if has_request_context() else None


def path_segment(environ: dict) -> str:
    """``/es`` for a request to ``/es/...``, "" for one without a language:
    what logs put before the path the app routes."""
    language = environ.get(PATH_LANGUAGE)
    return f"/{language}" if language else ""


def page_variant() -> tuple[str, str]:
    """What a page kept once for everyone (see campaign_page) differs by
    besides its campaign: its language, and where its links point (``/c/x``
    of a campaign written in Spanish and ``/es/c/x`` are both Spanish, but
    the links of one stay bare and of the other carry ``/es``)."""
    return str(get_locale()), request.script_root if has_request_context() else ""


def site_languages() -> list[str]:
    """Every language, the site's default first."""
    default = default_language()
    return [default, *(language for language in LANGUAGES if language != default)]


def offer_languages(languages: Sequence[str]) -> None:
    """The languages this request's page offers in its switcher and to
    search engines, when its template does not say (``page_languages``):
    a campaign's pages offer the campaign's."""
    request.environ[OFFERED_LANGUAGES] = list(languages)


# --- Accept-Language -------------------------------------------------------------------

def preferred_elsewhere(accepted: LanguageAccept, languages: Sequence[str]) -> str | None:
    """The language of ``languages`` the browser prefers, if it is not the
    first (the one an address without a language shows); else None."""
    best = preferred(accepted, languages)
    return best if best is not None and best != languages[0] else None


def preferred(accepted: LanguageAccept, languages: Sequence[str]) -> str | None:
    """The first language the browser accepts, most wanted first, that is
    one of ``languages`` (``es-AR`` is ``es``; ``*`` is the first of them).
    Not werkzeug's best_match, which takes any exact match before a better
    wanted regional one: ``en-GB, es;q=0.5`` is English, not Spanish."""
    for value, quality in accepted:  # most wanted first
        if quality <= 0:
            continue
        if value == "*":
            return languages[0] if languages else None
        language = value.replace("_", "-").partition("-")[0].lower()
        if language in languages:
            return language
    return None


def preferred_in_environ(environ: dict, languages: Sequence[str]) -> str | None:
    """``preferred_elsewhere`` for a WSGI request not yet parsed (the
    response cache answers without Flask)."""
    header = environ.get("HTTP_ACCEPT_LANGUAGE")
    if not header:
        return None
    return preferred_elsewhere(parse_accept_header(header, LanguageAccept), languages)


def redirect_by_accept_language(languages: Sequence[str]) -> Response | None:
    """For a first visit to an address without a language (``/``, a bare
    ``/c/<slug>``): the redirect to the same page in the one of
    ``languages`` the browser prefers, when that is not the first of them;
    else None, and the page is served (``vary_by_accept_language``). An
    address with a language never redirects. The redirect depends on the
    visitor's header, so no cache keeps it."""
    if language_in_path() is not None:
        return None
    language = preferred_elsewhere(request.accept_languages, languages)
    if language is None:
        return None
    query = request.query_string.decode("latin-1")
    response = redirect(f"{_site_root()}/{language}{_quoted(request.path)}" + (f"?{query}" if query else ""),
                        302)
    response.headers["Cache-Control"] = "private, no-store"
    response.vary.add("Accept-Language")
    return response


def vary_by_accept_language(response: Response, languages: Sequence[str]) -> Response:
    """Mark a page served at an address without a language as chosen by
    Accept-Language among ``languages`` (its own first): ``Vary`` for
    shared caches, and a note for the process's own (see http_cache), which
    then sends a visitor who prefers another of them on to the app and its
    redirect rather than serving its copy."""
    if language_in_path() is None:
        response.vary.add("Accept-Language")
        request.environ[CHOSEN_BY_ACCEPT_LANGUAGE] = tuple(languages)
    return response


# --- Links --------------------------------------------------------------------------

def _site_root() -> str:
    environ = request.environ
    return environ.get(SITE_ROOT, environ.get("SCRIPT_NAME", "")).rstrip("/")


def _quoted(path: str) -> str:
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def _url_for_in_templates(endpoint: str, **values) -> str:
    """``url_for`` as templates call it: as Flask's, but a file that is the
    same in every language keeps the one address it has without one."""
    url = url_for(endpoint, **values)
    if endpoint in SAME_IN_EVERY_LANGUAGE and has_request_context() and PATH_LANGUAGE in request.environ:
        return _at_one_address(url)
    return url


def _at_one_address(url: str) -> str:
    prefixed = request.script_root + "/"
    parts = urlsplit(url)
    if parts.path.startswith(prefixed):
        return urlunsplit(parts._replace(path=_site_root() + parts.path[len(prefixed) - 1:]))
    return url


@dataclass(frozen=True)
class LanguageLink:
    language: str
    name: str  # in the language itself
    url: str  # on this site, with the language's segment
    absolute_url: str  # rooted at SITE_URL, for search engines
    current: bool

    @property
    def direction(self) -> str:
        return direction(self.language)


@dataclass(frozen=True)
class LanguageLinks:
    """What templates/base.html needs for the switcher and <head>."""
    links: list[LanguageLink]
    # The address without a language, which a first-time visitor is sent
    # on from by Accept-Language (hreflang="x-default"); None when the
    # links are not to this very page (an answer to a POST, an error).
    x_default: str | None


def language_links(languages: Sequence[str] | None = None) -> LanguageLinks:
    """This page in each of ``languages`` (default: the ones offered for
    this request, else all), in the site's order of languages. Each link
    names its language, so following one never meets a redirect. A page
    that answers a POST links to the page its form was on (``/c/x/sign``:
    ``/c/x``), or else the front page: its own address is not a page."""
    if not has_request_context():  # a page rendered for no visitor has no address to offer
        return LanguageLinks([], None)
    if languages is None:
        languages = request.environ.get(OFFERED_LANGUAGES) or LANGUAGES
    path, this_page = _page_path()
    root, site_url = _site_root(), current_app.config["SITE_URL"].rstrip("/")
    current = page_language()
    links = [LanguageLink(language, NAMES[language], f"{root}/{language}{path}", f"{site_url}/{language}{path}",
                          language == current)
             for language in LANGUAGES if language in languages]
    return LanguageLinks(links, f"{site_url}{path}" if this_page else None)


def _page_path() -> tuple[str, bool]:
    """The path (quoted, without language) the switcher links to, and
    whether it is this page's own."""
    path = _quoted(request.path)
    if request.method in ("GET", "HEAD"):
        return path, request.url_rule is not None
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        return path, False
    parent = request.path.rstrip("/").rpartition("/")[0] or "/"
    try:
        current_app.url_map.bind_to_environ(request.environ).match(parent, method="GET")
    except HTTPException:  # no page there (a redirect to one included)
        return "/", False
    return _quoted(parent), False
