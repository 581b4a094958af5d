"""Every page in its reader's language. The language is the first segment
of the address (`/es/c/<slug>`, `/ar/`): links stay in it, right-to-left
languages read right to left, a page offers its other languages by plain
links, and no cache ever serves one language's page for another's.
Accept-Language only chooses where `/` and a campaign's address without a
language send a first-time visitor."""
from __future__ import annotations

import json
import logging
import re
import urllib.parse
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from campaign.extensions import db
from campaign.links import absolute_url
from campaign.locales import LANGUAGES
from campaign.models import Signature, SignatureStatus

from .builders import (
    PASSWORD,
    confirm,
    confirm_link,
    csrf_token,
    make_campaign,
    make_organiser,
    valid_pledge,
)
from .conftest import fresh_app, served
from .multi_host import Nginx, main_config, nginx_binary, site_config
from .throwaway import free_port

SITE_URL = "http://campaigns.test"


class _Page(HTMLParser):
    """What a test reads of a page: the <html> tag's attributes, every
    address it links to (href, src, action), its <link rel=alternate> tags
    and the language switcher's links."""

    def __init__(self, html: str):
        super().__init__()
        self.html: dict[str, str] = {}
        self.addresses: list[str] = []
        self.alternates: dict[str, str] = {}
        self.switcher: list[dict[str, str]] = []
        self._in_switcher = False
        self._switcher_link: dict[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.html = attrs
        for name in ("href", "src", "action"):
            if name in attrs:
                self.addresses.append(attrs[name])
        if tag == "link" and attrs.get("rel") == "alternate":
            self.alternates[attrs["hreflang"]] = attrs["href"]
        if tag == "nav" and "language-switcher" in attrs.get("class", ""):
            self._in_switcher = True
        if tag == "a" and self._in_switcher:
            self._switcher_link = {**attrs, "text": ""}

    def handle_data(self, data):
        if self._switcher_link is not None:
            self._switcher_link["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._switcher_link is not None:
            self.switcher.append(self._switcher_link)
            self._switcher_link = None
        elif tag == "nav":
            self._in_switcher = False

    @property
    def language(self) -> tuple[str, str]:
        return self.html.get("lang", ""), self.html.get("dir", "")

    @property
    def local_addresses(self) -> list[str]:
        return [a for a in self.addresses if a.startswith("/") and not a.startswith("//")]


def read(response) -> _Page:
    return _Page(response.get_data(as_text=True))


# --- A page in a language -------------------------------------------------------------

def test_a_campaign_page_in_spanish_is_in_spanish_and_reads_left_to_right(ctx, client):
    make_campaign(slug="hablamos", published_languages=["es"])
    page = client.get("/es/c/hablamos")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert read(page).language == ("es", "ltr")
    assert "Saltar al contenido" in html and "Aviso de privacidad" in html
    assert "Skip to content" not in html


@pytest.mark.parametrize("path", ["/ar/", "/ar/c/yalla", "/ar/privacy", "/ar/c/no-such-campaign"])
def test_arabic_pages_read_right_to_left(ctx, client, path):
    make_campaign(slug="yalla", published_languages=["ar"])
    page = client.get(path)
    assert read(page).language == ("ar", "rtl")
    assert "الانتقال إلى المحتوى" in page.get_data(as_text=True)  # "Skip to content"


@pytest.mark.parametrize("path, language", [("/", "en"), ("/en/", "en"), ("/fr/", "fr"), ("/es/privacy", "es")])
def test_the_sites_own_pages_in_each_language(ctx, client, path, language):
    page = client.get(path)
    assert page.status_code == 200
    assert read(page).language == (language, "ltr")


def test_a_language_alone_leads_to_its_front_page(client):
    answer = client.get("/es?x=1")
    assert answer.status_code == 308 and answer.headers["Location"].endswith("/es/?x=1")


def test_an_address_in_the_sites_default_language_works_too(ctx, client):
    """/en/c/<slug> is how the switcher offers English, whatever the
    campaign's own language."""
    make_campaign(slug="english")
    page = client.get("/en/c/english")
    assert page.status_code == 200 and read(page).language == ("en", "ltr")
    assert 'action="/en/c/english/sign"' in page.get_data(as_text=True)


def test_links_on_a_spanish_page_stay_in_spanish_and_files_keep_one_address(ctx, client):
    make_campaign(slug="enlaces", kind="boycott", published_languages=["es"], image_filename="cartel.png")
    page = read(client.get("/es/c/enlaces"))
    local = page.local_addresses
    one_address = [a for a in local if a.startswith(("/static/", "/media/", "/favicon"))]
    assert {"/static/css/site.css", "/static/js/site.js", "/media/cartel.png"} <= set(one_address)
    switcher = {link["href"] for link in page.switcher}
    pages = [a for a in local if a not in one_address and a not in switcher]
    assert pages and all(a.startswith("/es/") for a in pages), pages
    assert {"/es/c/enlaces/sign", "/es/c/enlaces/business", "/es/privacy", "/es/"} <= set(pages)
    # The same files from an English page: browsers and CDNs keep one copy.
    assert set(one_address) <= set(read(client.get("/c/enlaces")).local_addresses)


# --- The switcher and search engines ------------------------------------------------

def test_the_switcher_offers_the_campaigns_languages_each_named_in_itself(ctx, client):
    make_campaign(slug="bilingue", published_languages=["fr", "ar"])
    page = read(client.get("/fr/c/bilingue"))
    assert [(link["href"], link["hreflang"], link["lang"], link["text"]) for link in page.switcher] == [
        ("/en/c/bilingue", "en", "en", "English"),
        ("/fr/c/bilingue", "fr", "fr", "Français"),
        ("/ar/c/bilingue", "ar", "ar", "العربية"),
    ]
    assert [link.get("aria-current") for link in page.switcher] == [None, "true", None]
    assert page.switcher[2]["dir"] == "rtl"
    assert page.alternates == {
        "en": f"{SITE_URL}/en/c/bilingue", "fr": f"{SITE_URL}/fr/c/bilingue", "ar": f"{SITE_URL}/ar/c/bilingue",
        "x-default": f"{SITE_URL}/c/bilingue"}
    assert f'<link rel="canonical" href="{SITE_URL}/fr/c/bilingue">' in client.get("/fr/c/bilingue").get_data(
        as_text=True), "each language's page is its own canonical address"


def test_an_untranslated_campaign_offers_no_other_language(ctx, client):
    make_campaign(slug="solo")
    page = read(client.get("/c/solo"))
    assert page.switcher == [] and set(page.alternates) == {"en", "x-default"}


def test_the_sites_own_pages_offer_every_language(ctx, client):
    page = read(client.get("/privacy"))
    assert [link["text"] for link in page.switcher] == ["English", "Español", "Français", "العربية"]
    assert [link["href"] for link in page.switcher] == ["/en/privacy", "/es/privacy", "/fr/privacy", "/ar/privacy"]
    assert page.alternates["x-default"] == f"{SITE_URL}/privacy"


def test_a_campaign_written_in_spanish_is_spanish_at_its_address_without_a_language(ctx, client):
    make_campaign(slug="en-espanol", default_language="es", published_languages=["en"])
    bare, english = client.get("/c/en-espanol"), client.get("/en/c/en-espanol")
    assert read(bare).language == ("es", "ltr") and "Saltar al contenido" in bare.get_data(as_text=True)
    assert read(english).language == ("en", "ltr")
    assert [(link["href"], link["text"]) for link in read(bare).switcher] == [
        ("/en/c/en-espanol", "English"), ("/es/c/en-espanol", "Español")]
    # Both Spanish pages, each with its own links: the page built once per
    # edition is built per address too.
    spanish = client.get("/es/c/en-espanol").get_data(as_text=True)
    assert 'action="/c/en-espanol/sign"' in bare.get_data(as_text=True)
    assert 'action="/es/c/en-espanol/sign"' in spanish


def test_a_page_after_a_post_offers_the_page_its_form_was_on(ctx, client):
    make_campaign(slug="despues", published_languages=["es"])
    form = client.get("/es/c/despues").get_data(as_text=True)
    thanks = client.post("/es/c/despues/sign", data={**valid_pledge(), "csrf_token": csrf_token(form)})
    page = read(thanks)
    assert [link["href"] for link in page.switcher] == ["/en/c/despues", "/es/c/despues"]
    assert page.alternates == {}, "an answer to a POST is no address for search engines"


# --- Accept-Language ------------------------------------------------------------------

def _chosen_by_accept_language(response) -> bool:
    return "Accept-Language" in response.headers.get("Vary", "")


@pytest.mark.parametrize("accept, location", [
    ("es-MX,es;q=0.9,en;q=0.8", "/es/"),
    ("ar", "/ar/"),
    ("de, fr;q=0.5", "/fr/"),
])
def test_the_front_page_sends_a_first_time_visitor_to_their_language(client, accept, location):
    answer = client.get("/", headers={"Accept-Language": accept})
    assert answer.status_code == 302 and answer.headers["Location"] == location
    assert answer.headers["Cache-Control"] == "private, no-store" and _chosen_by_accept_language(answer)
    assert client.get("/?ref=x", headers={"Accept-Language": accept}).headers["Location"] == location + "?ref=x"


@pytest.mark.parametrize("accept", ["en-GB,en;q=0.9,es;q=0.8", "en-GB, es;q=0.5", "es;q=0, de", "de", "*", "", None])
def test_a_visitor_preferring_the_default_or_nothing_we_have_stays(ctx, client, accept):
    make_campaign(slug="stay", published_languages=["es"])
    headers = {"Accept-Language": accept} if accept else {}
    for path in ("/", "/c/stay"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200 and read(answer).language == ("en", "ltr")
        assert _chosen_by_accept_language(answer)


def test_a_bare_campaign_link_sends_a_visitor_to_a_language_the_campaign_has(ctx, client):
    make_campaign(slug="reparto", published_languages=["es"])
    answer = client.get("/c/reparto?ref=abc123&utm_source=mail", headers={"Accept-Language": "es-AR,es"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/es/c/reparto?ref=abc123&utm_source=mail"
    assert answer.headers["Cache-Control"] == "private, no-store" and _chosen_by_accept_language(answer)
    # French is ours, but not this campaign's: the page as it is, still public.
    page = client.get("/c/reparto", headers={"Accept-Language": "fr"})
    assert page.status_code == 200 and read(page).language == ("en", "ltr")
    assert "public" in page.headers["Cache-Control"] and _chosen_by_accept_language(page)


def test_a_campaign_written_in_spanish_sends_an_english_reader_to_its_english_page(ctx, client):
    make_campaign(slug="bienvenidos", default_language="es", published_languages=["en"])
    assert client.get("/c/bienvenidos", headers={"Accept-Language": "en-US"}).headers["Location"] == \
        "/en/c/bienvenidos"
    assert client.get("/c/bienvenidos", headers={"Accept-Language": "es"}).status_code == 200


@pytest.mark.parametrize("path", ["/es/", "/fr/c/fijo", "/en/c/fijo", "/en/"])
def test_an_address_with_a_language_never_redirects(ctx, client, path):
    make_campaign(slug="fijo", published_languages=["es", "fr", "ar"])
    answer = client.get(path, headers={"Accept-Language": "ar"})
    assert answer.status_code == 200 and not _chosen_by_accept_language(answer)


def test_other_pages_without_a_language_do_not_redirect(ctx, client):
    make_campaign(slug="quiet", published_languages=["es"])
    for path in ("/privacy", "/c/quiet/thanks", "/c/quiet/embed", "/organiser/login"):
        assert client.get(path, headers={"Accept-Language": "es"}).status_code == 200, path


# --- Caches ---------------------------------------------------------------------------

def test_the_process_copy_never_serves_one_languages_page_for_another(ctx):
    """The copy each process keeps of a public page (http_cache) is kept
    by the whole address: /c/x and /es/c/x reach the app as the same route."""
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 30
    make_campaign(slug="copia", published_languages=["es"])
    visitor = ctx.test_client()
    for _ in range(2):
        assert read(visitor.get("/c/copia")).language == ("en", "ltr")
        assert read(visitor.get("/es/c/copia")).language == ("es", "ltr")
        assert read(visitor.get("/c/copia/embed")).language == ("en", "ltr")
        assert read(visitor.get("/es/c/copia/embed")).language == ("es", "ltr")


def test_the_process_copy_of_a_bare_page_still_sends_others_to_their_language(ctx):
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 30
    make_campaign(slug="elige", published_languages=["es"])
    visitor = ctx.test_client()
    first = visitor.get("/c/elige")
    spanish = visitor.get("/c/elige", headers={"Accept-Language": "es"})
    assert spanish.status_code == 302 and spanish.headers["Location"] == "/es/c/elige"
    english = visitor.get("/c/elige", headers={"Accept-Language": "en-GB, es;q=0.5"})
    assert english.status_code == 200 and english.get_data() == first.get_data()
    assert english.headers["Vary"] == first.headers["Vary"]


def test_a_request_log_line_names_the_language(ctx, client, caplog):
    make_campaign(slug="registro", published_languages=["es"])
    logger = logging.getLogger("campaign.request")
    caplog.set_level(logging.INFO, logger="campaign.request")
    logger.addHandler(caplog.handler)
    try:
        client.get("/es/c/registro")
        client.get("/es/confirm/MQ.secret-token-value")
    finally:
        logger.removeHandler(caplog.handler)
    paths = [json.loads(r.getMessage())["path"] for r in caplog.records if r.name == "campaign.request"]
    assert paths[-2:] == ["/es/c/registro", "/es/confirm/<token>"]


@pytest.fixture
def behind_nginx(database_url, mail_server, tmp_path):
    """The app behind nginx with deploy/nginx/campaign.conf's cache on,
    kept long enough (30 s) that only the cache can answer a repeat."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    with fresh_app(database_url, mail_server, tmp_path, PUBLIC_CACHE_SECONDS=30) as app, served(app) as upstream:
        port = free_port()
        site = site_config(upstreams=[f"127.0.0.1:{upstream}"], listen=f"127.0.0.1:{port}",
                           prefix=tmp_path / "nginx", cache=True)
        nginx = Nginx(main_config(site, tmp_path / "nginx"), tmp_path / "nginx", port)
        try:
            yield app, nginx
        finally:
            nginx.stop()


def _through(nginx, path: str, **headers):
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_a_shared_cache_keeps_each_language_apart(behind_nginx):
    """nginx as a CDN would be: its key is the whole address, and the page
    without a language is kept per Accept-Language (it says Vary), so the
    copy of one language never reaches a reader of another and a visitor
    who prefers Spanish is still redirected."""
    app, nginx = behind_nginx
    with app.app_context():
        make_campaign(slug="cdn", published_languages=["es"])
    status, headers, english = _through(nginx, "/c/cdn")
    assert status == 200 and _Page(english).language == ("en", "ltr")
    for _ in range(2):
        status, headers, spanish = _through(nginx, "/es/c/cdn")
        assert status == 200 and _Page(spanish).language == ("es", "ltr")
        status, headers, _ = _through(nginx, "/c/cdn", **{"Accept-Language": "es"})
        assert status == 302 and headers["Location"].endswith("/es/c/cdn")
        assert headers["Cache-Control"] == "private, no-store"
    status, headers, again = _through(nginx, "/c/cdn")
    assert headers.get("X-Cache") == "HIT" and _Page(again).language == ("en", "ltr")
    assert _through(nginx, "/es/c/cdn")[1].get("X-Cache") == "HIT"


def test_the_nginx_configuration_keeps_prefixed_organiser_pages_out_of_the_cache():
    """/ar/organiser/... is the back office too: never compressed (BREACH)
    nor cached, and the cache's key is the whole address."""
    from .multi_host import SITE_CONF
    text = SITE_CONF.read_text()
    assert "proxy_cache_key $scheme$host$request_uri;" in text
    block = re.search(r"location ~ \^/\(\?:([a-z|]+)\)/organiser/ \{(.*?)\}", text, re.S)
    assert block, "no location for the back office in another language"
    assert set(block.group(1).split("|")) == set(LANGUAGES)
    assert "gzip off;" in block.group(2) and "proxy_cache" not in block.group(2)


# --- Forms and the back office in a language ------------------------------------------

def test_signing_on_a_spanish_page_stays_in_spanish_to_the_count(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="firma", published_languages=["es"])
    form = client.get("/es/c/firma").get_data(as_text=True)
    thanks = client.post("/es/c/firma/sign", data={**valid_pledge(email="ana@example.com"),
                                                   "csrf_token": csrf_token(form)})
    assert thanks.status_code == 200 and read(thanks).language == ("es", "ltr")
    assert thanks.headers["Cache-Control"] == "no-store"
    deliver()
    [email] = smtp.to("ana@example.com")
    link = re.search(r"https?://[^/\s]+(/es/confirm/[\w.-]+)", email.text)
    assert link, "the confirmation link is in the signer's language"
    page = client.get(link.group(1))
    assert page.status_code == 200 and read(page).language == ("es", "ltr")
    confirmed = confirm(client, link.group(1))
    assert confirmed.status_code == 200 and read(confirmed).language == ("es", "ltr")
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        assert signature.status == SignatureStatus.CONFIRMED and signature.language == "es"


def test_the_confirm_link_without_a_language_still_works(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="sin-idioma")
    form = client.get("/c/sin-idioma").get_data(as_text=True)
    client.post("/c/sin-idioma/sign", data={**valid_pledge(email="bo@example.com"), "csrf_token": csrf_token(form)})
    deliver()
    path = confirm_link(smtp.to("bo@example.com")[0].text)
    assert confirm(client, path).status_code == 200


@pytest.mark.parametrize("headers, status", [
    ({"Sec-Fetch-Site": "cross-site"}, 400),
    ({"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, 400),
    ({"Sec-Fetch-Site": "same-origin"}, 200),
])
def test_a_prefixed_form_keeps_its_forgery_checks(ctx, client, headers, status):
    make_campaign(slug="seguro", published_languages=["fr"])
    form = client.get("/fr/c/seguro").get_data(as_text=True)
    answer = client.post("/fr/c/seguro/sign", data={**valid_pledge(), "csrf_token": csrf_token(form)},
                         headers=headers)
    assert answer.status_code == status


def test_a_page_token_from_the_page_without_a_language_works_on_the_prefixed_form(ctx, client):
    """Both addresses are the same campaign: a page cached in one language
    and posted from another still carries a good token."""
    make_campaign(slug="token", published_languages=["es"])
    token = csrf_token(client.get("/c/token").get_data(as_text=True))
    assert client.post("/es/c/token/sign", data={**valid_pledge(), "csrf_token": token}).status_code == 200


def test_an_organiser_page_in_arabic(ctx, client):
    make_organiser("org@example.com")
    login = client.get("/ar/organiser/login")
    assert read(login).language == ("ar", "rtl")
    assert "تسجيل الدخول" in login.get_data(as_text=True)  # "Log in"
    answer = client.post("/ar/organiser/login", data={
        "email": "org@example.com", "password": PASSWORD,
        "csrf_token": csrf_token(login.get_data(as_text=True))})
    assert answer.status_code == 303 and urllib.parse.urlsplit(answer.headers["Location"]).path == "/ar/organiser/"
    home = client.get("/ar/organiser/")
    assert home.status_code == 200 and read(home).language == ("ar", "rtl")
    assert [link["href"] for link in read(home).switcher][:2] == ["/en/organiser/", "/es/organiser/"]
    # The session is the same in every language.
    assert client.get("/organiser/").status_code == 200 and client.get("/es/organiser/").status_code == 200


def test_an_organiser_sent_to_log_in_comes_back_in_their_language(ctx, client):
    make_organiser("org@example.com")
    away = client.get("/fr/organiser/campaigns/new")
    login = urllib.parse.urlsplit(away.headers["Location"])
    assert login.path == "/fr/organiser/login"
    address = f"{login.path}?{login.query}"
    page = client.get(address)
    assert read(page).language == ("fr", "ltr")
    answer = client.post(address, data={"email": "org@example.com", "password": PASSWORD,
                                        "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert urllib.parse.urlsplit(answer.headers["Location"]).path == "/fr/organiser/campaigns/new"


# --- Links in emails --------------------------------------------------------------------

def test_absolute_urls_name_the_language_asked_for(ctx):
    """Emailed links are built where no request is served (the worker)."""
    assert absolute_url("public.campaign_page", slug="x") == f"{SITE_URL}/c/x"
    assert absolute_url("public.campaign_page", language="es", slug="x") == f"{SITE_URL}/es/c/x"
    assert absolute_url("public.confirm", language="ar", token="t") == f"{SITE_URL}/ar/confirm/t"
    assert absolute_url("public.campaign_page", language="en", slug="x") == f"{SITE_URL}/c/x"
    assert absolute_url("public.index", language="fr") == f"{SITE_URL}/fr/"
