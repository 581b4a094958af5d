"""A campaign's embed page on partner sites: who may frame it (and nothing
else), signing inside the frame (the same form, errors and 422 as the
campaign page, no cookie, refused when the partner's page posts it itself),
what an embedded signature records as its source, the organiser's Embed
tab, and the page's weight."""
from __future__ import annotations

import datetime as dt
import gzip
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign import embeds, questions, shared_pages
from campaign.extensions import db
from campaign.models import AuditEvent, Campaign, CampaignStatus, Kind, Signature

from .builders import (
    confirm,
    confirm_link,
    csrf_token,
    log_in,
    make_campaign,
    make_organiser,
    valid_pledge,
)

SITE = "http://campaigns.test"
PARTNER = "https://partner.example"
STATIC = Path(__file__).resolve().parent.parent / "static"


def frame_ancestors(response) -> str:
    [directive] = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")
                   if d.strip().startswith("frame-ancestors")]
    return directive


def embed_token(client, slug: str) -> str:
    return csrf_token(client.get(f"/c/{slug}/embed").get_data(as_text=True))


def sign_in_frame(client, slug: str, headers: dict | None = None, query: str = "", **fields):
    """Sign as a person in the partner's frame would: our own page posts it
    (Sec-Fetch-Site: same-origin, the default of the test client), its
    Referer the frame's address."""
    data = {k: v for k, v in valid_pledge(**fields).items() if v is not None}
    data.setdefault("csrf_token", embed_token(client, slug))
    sent = {"Referer": f"{SITE}/c/{slug}/embed", **(headers or {})}
    return client.post(f"/c/{slug}/embed/sign{query}", data=data, headers=sent)


def the_signature(email="ada@example.com") -> Signature:
    return db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()


def error_messages(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</ul>', html, re.S)
    assert summary, "no error summary on the page"
    return [unescape(m) for m in re.findall(r'<li><a href="#[\w-]+">(.*?)</a></li>', summary.group(0))]


# --- Framing: only the embed page, only by the campaign's partners ---------------------------

@pytest.mark.parametrize("origins, anyone, expected", [
    ("https://partner.example\nhttps://news.example:8443", False,
     "frame-ancestors 'self' https://partner.example https://news.example:8443"),
    ("", True, "frame-ancestors 'self' *"),
    ("https://partner.example", True, "frame-ancestors 'self' *"),
    ("", False, "frame-ancestors 'self'"),
], ids=["listed-partners", "anyone", "anyone-with-a-list", "nobody-but-our-own-preview"])
def test_the_embed_page_may_be_framed_by_the_campaigns_partners_only(ctx, client, origins, anyone, expected):
    """Its frame-ancestors are the partners (or any site), and our own pages
    for the organiser's preview; no X-Frame-Options, which would refuse them."""
    campaign = make_campaign(embed_origins=origins, embed_anyone=anyone)
    response = client.get(f"/c/{campaign.slug}/embed")
    assert response.status_code == 200
    assert frame_ancestors(response) == expected
    assert "X-Frame-Options" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "form-action 'self'" in csp


def test_every_other_page_still_refuses_every_frame(ctx, client):
    """The campaign page, its thank-you page, count.json, the privacy page and
    the back office of a campaign that anyone may embed: frame-ancestors 'none', DENY."""
    campaign = make_campaign(embed_origins=PARTNER, embed_anyone=True)
    for path in (f"/c/{campaign.slug}", f"/c/{campaign.slug}/thanks", f"/c/{campaign.slug}/count.json", "/privacy",
                 "/", "/organiser/login", "/c/no-such-campaign/embed"):
        response = client.get(path)
        assert frame_ancestors(response) == "frame-ancestors 'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_drafts_have_no_embed_page(ctx, client):
    campaign = make_campaign(status=CampaignStatus.DRAFT, embed_anyone=True)
    response = client.get(f"/c/{campaign.slug}/embed")
    assert response.status_code == 404
    assert frame_ancestors(response) == "frame-ancestors 'none'"


def test_a_stored_line_that_is_not_an_origin_never_reaches_the_header(ctx, client):
    """What reaches the header is checked again: a line written by other means
    (a script, an old import) that is not an origin is left out."""
    campaign = make_campaign(embed_origins="https://partner.example\nhttps://evil.example; script-src *\n*")
    assert frame_ancestors(client.get(f"/c/{campaign.slug}/embed")) == "frame-ancestors 'self' https://partner.example"


def test_the_embed_page_is_one_cached_page_whoever_frames_it(ctx, client):
    """The same bytes whatever the partner, the link codes or the Referer:
    kept for every visitor by the shared copy, and public for a CDN."""
    campaign = make_campaign(embed_origins=PARTNER)
    plain = client.get(f"/c/{campaign.slug}/embed")
    assert plain.headers["Cache-Control"].startswith("public") and "ETag" in plain.headers
    assert "Set-Cookie" not in plain.headers and "Vary" not in plain.headers
    other = client.get(f"/c/{campaign.slug}/embed?partner={PARTNER}&utm_campaign=spring&source=x",
                       headers={"Referer": PARTNER + "/"})
    assert other.get_data() == plain.get_data()

    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 30  # long enough that only the shared copy can answer
    first = client.get(f"/c/{campaign.slug}/embed")
    campaign.title = "Renamed while the copy is kept"
    db.session.commit()
    kept = client.get(f"/c/{campaign.slug}/embed?partner=https://other.example")
    assert kept.get_data() == first.get_data() and "Renamed" not in kept.get_data(as_text=True)
    assert frame_ancestors(kept) == f"frame-ancestors 'self' {PARTNER}"
    assert "X-Frame-Options" not in kept.headers


def test_a_change_of_partners_reaches_the_header_at_once(ctx, client):
    """Saving the list raises the campaign's edition: the page is built again."""
    campaign = make_campaign(embed_origins=PARTNER)
    assert PARTNER in frame_ancestors(client.get(f"/c/{campaign.slug}/embed"))
    edition = campaign.edition
    embeds.save(campaign, ("https://newcomer.example",), False)
    assert campaign.edition == edition + 1
    assert frame_ancestors(client.get(f"/c/{campaign.slug}/embed")) == "frame-ancestors 'self' https://newcomer.example"


# --- Signing in the frame ------------------------------------------------------------------

def test_a_person_signs_in_the_frame_confirms_and_the_frames_count_rises(app, client, smtp, deliver):
    """The thank-you page in the frame names the address and leads to the
    full page in a new tab; the emailed link confirms; the count rises."""
    with app.app_context():
        make_campaign(slug="framed", embed_origins=PARTNER, goal=10)
    page = client.get("/c/framed/embed").get_data(as_text=True)
    assert 'action="/c/framed/embed/sign"' in page and '<span role="status" aria-live="polite" data-count>0</span>' in page

    thanks = sign_in_frame(client, "framed", email="ada@example.com", partner=PARTNER)
    body = thanks.get_data(as_text=True)
    assert thanks.status_code == 200 and thanks.headers["Cache-Control"] == "no-store"
    assert frame_ancestors(thanks) == f"frame-ancestors 'self' {PARTNER}"
    assert "Check your email" in body and '<strong class="signed-as" dir="auto">ada@example.com</strong>' in body
    assert '<a href="/c/framed" target="_blank" rel="noopener">' in body
    assert "site-header" not in body and "data-embed-page" in body

    deliver()
    [email] = smtp.to("ada@example.com")
    assert confirm(client, confirm_link(email.text)).status_code == 200
    assert '<span role="status" aria-live="polite" data-count>1</span>' in client.get("/c/framed/embed").get_data(
        as_text=True)
    with app.app_context():
        assert the_signature().status == "confirmed"


def test_signing_in_the_frame_needs_no_cookie_and_sets_none(ctx, app):
    """Browsers that block third-party cookies sign like any other: the
    page and its POST set no cookie and read none."""
    make_campaign(slug="cookieless", embed_origins=PARTNER)
    client = app.test_client(use_cookies=False)
    page = client.get("/c/cookieless/embed")
    assert "Set-Cookie" not in page.headers
    response = client.post("/c/cookieless/embed/sign", data={
        **valid_pledge(), "csrf_token": csrf_token(page.get_data(as_text=True))},
        headers={"Origin": SITE, "Referer": f"{SITE}/c/cookieless/embed"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert the_signature().status == "pending"


@pytest.mark.parametrize("what, headers", [
    ("the partner's page posts it (Sec-Fetch-Site)", {"Sec-Fetch-Site": "cross-site", "Origin": PARTNER}),
    ("the partner's page posts it (Origin)", {"Sec-Fetch-Site": "", "Origin": PARTNER}),
    ("a page on the same site as ours but not ours", {"Sec-Fetch-Site": "same-site", "Origin": "http://www.campaigns.test"}),
    ("the partner's page, saying only its Referer", {"Sec-Fetch-Site": "", "Referer": PARTNER + "/petition"}),
    ("a request that says nothing of where it comes from", {"Sec-Fetch-Site": ""}),
], ids=["sec-fetch-site", "origin", "same-site", "referer", "nothing"])
def test_the_partners_page_itself_cannot_post_the_form(ctx, client, what, headers):
    """The page token is public (it is in the frame), so what refuses a POST
    the partner's page makes is the browser's word on where it comes from: 400, nothing stored."""
    make_campaign(slug="guarded", embed_origins=PARTNER)
    token = embed_token(client, "guarded")
    response = client.post("/c/guarded/embed/sign", data={**valid_pledge(), "csrf_token": token}, headers=headers)
    assert response.status_code == 400, what
    assert db.session.execute(select(Signature)).first() is None


def test_an_expired_form_in_the_frame_gets_its_page_in_the_frame(ctx, client):
    """A form left open too long is refused (400) with a page the partner's frame may show."""
    make_campaign(slug="stale", embed_origins=PARTNER)
    with ctx.test_request_context("/c/stale/embed"):
        expired = shared_pages._serializer().dumps([shared_pages._hour() - shared_pages.TOKEN_HOURS - 1, "stale"])
    response = sign_in_frame(client, "stale", csrf_token=expired)
    assert response.status_code == 400
    assert frame_ancestors(response) == f"frame-ancestors 'self' {PARTNER}"
    assert db.session.execute(select(Signature)).first() is None


def test_the_campaign_pages_token_works_in_the_frame_and_the_frames_on_the_page(ctx, client):
    """One token per campaign and hour: a page cached from either still signs."""
    make_campaign(slug="one-token", embed_origins=PARTNER)
    assert embed_token(client, "one-token") == csrf_token(client.get("/c/one-token").get_data(as_text=True))


# Bad inputs: the frame answers each exactly as the campaign page does.
BAD_PLEDGES = [
    ({"given_name": "", "family_name": "", "email": "", "country": ""},
     ["Enter your first name", "Enter your last name", "Enter your email address", "Choose your country from the list",
      "Answer “Which group are you with?”"]),
    ({"email": "not-an-address"}, None),
    ({"given_name": "x" * 101}, ["First name must be 100 characters or fewer", "Answer “Which group are you with?”"]),
    ({"country": "XX"}, ["Choose your country from the list", "Answer “Which group are you with?”"]),
    ({"postal_code": "<script>"}, None),
    ({"given_name": "Ada\x00"}, None),
    ({"email": "ada@example.com\r\nBcc: x@example.com"}, None),
]


@pytest.mark.parametrize("bad, messages", BAD_PLEDGES,
                         ids=["empty", "bad-email", "long-name", "unknown-country", "markup-postcode", "nul-byte",
                              "header-injection"])
def test_a_form_with_errors_comes_back_in_the_frame_as_on_the_campaign_page(ctx, client, bad, messages):
    """422, the embed page (not the campaign page) with the same messages in
    its error summary and title; the custom question is asked there too;
    nothing stored, and never a 500."""
    campaign = make_campaign(slug="checked", embed_origins=PARTNER)
    questions.add_question(campaign, "Which group are you with?", "text", required=True)
    data = {**valid_pledge(), **bad}
    framed = client.post("/c/checked/embed/sign", data={**data, "csrf_token": embed_token(client, "checked")},
                         headers={"Referer": f"{SITE}/c/checked/embed"})
    on_page = client.post("/c/checked/sign", data={
        **data, "csrf_token": csrf_token(client.get("/c/checked").get_data(as_text=True))})
    html = framed.get_data(as_text=True)
    assert framed.status_code == on_page.status_code == 422
    assert error_messages(html) == error_messages(on_page.get_data(as_text=True))
    if messages is not None:
        assert error_messages(html) == messages
    assert "data-embed-page" in html and "site-header" not in html
    assert re.search(r"<title>Error: ", html)
    assert 'action="/c/checked/embed/sign' in html and 'id="q' in html
    assert frame_ancestors(framed) == f"frame-ancestors 'self' {PARTNER}"
    assert db.session.execute(select(Signature)).first() is None


def test_the_form_sent_back_keeps_where_it_came_from(ctx, client):
    """After a 422 the frame's address is the POST's: the form carries the
    believed partner (in its action) and the link codes (hidden fields) on."""
    make_campaign(slug="carried", embed_origins=PARTNER)
    response = sign_in_frame(client, "carried", email="", headers={
        "Referer": f"{SITE}/c/carried/embed?partner={PARTNER}&utm_campaign=Spring+Drive&utm_medium=x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'action="/c/carried/embed/sign?partner=https://partner.example"' in html
    assert '<input type="hidden" name="utm_campaign" value="spring-drive" data-link-code>' in html
    fixed = form_of(html)
    fixed["email"] = "fixed@example.com"
    client.post("/c/carried/embed/sign?partner=https://partner.example", data=fixed,
                headers={"Referer": f"{SITE}/c/carried/embed/sign?partner=https://partner.example"})
    signature = the_signature("fixed@example.com")
    assert (signature.source, signature.medium, signature.source_campaign) == ("partner.example", "embed",
                                                                                 "spring-drive")


def form_of(html: str) -> dict:
    from .builders import form_values
    return form_values(html)


def test_a_stranger_claiming_a_partner_of_their_own_is_not_echoed_back(ctx, client):
    make_campaign(slug="no-echo", embed_origins=PARTNER)
    response = sign_in_frame(client, "no-echo", email="", partner='https://evil.example/"><script>x</script>')
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'action="/c/no-echo/embed/sign"' in html and "evil" not in html


def test_the_honeypot_in_the_frame_is_silently_discarded(ctx, client, smtp):
    make_campaign(slug="bots", embed_origins=PARTNER)
    response = sign_in_frame(client, "bots", homepage="http://spam.example")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert db.session.execute(select(Signature)).first() is None


def test_a_closed_campaigns_frame_shows_its_total_and_takes_no_signature(ctx, client):
    campaign = make_campaign(slug="closed-one", embed_origins=PARTNER, status=CampaignStatus.CLOSED)
    page = client.get("/c/closed-one/embed")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "This campaign is closed" in html and "It closed with 0 signatures." in html
    assert "<form" not in html
    assert client.post(f"/c/{campaign.slug}/embed/sign", data={**valid_pledge(), "csrf_token": "any"}
                       ).status_code == 404


def test_an_ended_freezes_frame_shows_its_result_and_refuses_signatures_in_the_frame(ctx, client):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    make_campaign(slug="frozen", kind=Kind.FREEZE, embed_origins=PARTNER, window_start=now - dt.timedelta(days=2),
                  window_end=now - dt.timedelta(days=1))
    html = client.get("/c/frozen/embed").get_data(as_text=True)
    assert "The result" in html and "0 people signed up to take part." in html and "<form" not in html
    with ctx.test_request_context("/c/frozen/embed"):
        token = shared_pages.page_token()
    response = client.post("/c/frozen/embed/sign", data={**valid_pledge(), "csrf_token": token},
        headers={"Referer": f"{SITE}/c/frozen/embed"})
    assert response.status_code == 410
    assert frame_ancestors(response) == f"frame-ancestors 'self' {PARTNER}"


def test_the_privacy_link_in_the_frame_opens_outside_it(ctx, client):
    """No other page may be framed, so the form's links open a new tab there."""
    make_campaign(slug="links", embed_origins=PARTNER)
    html = client.get("/c/links/embed").get_data(as_text=True)
    assert re.search(r'<a href="/privacy" target="_blank" rel="noopener">Privacy notice</a>', html)
    assert re.search(r'<a href="/privacy">Privacy notice</a>', client.get("/c/links").get_data(as_text=True))


# --- What an embedded signature records --------------------------------------------------------

# (partner list, anyone, how the claim arrives, expected source)
SOURCES = [
    (PARTNER, False, {"form": {"partner": PARTNER}}, "partner.example"),
    (PARTNER, False, {"form": {"partner": "HTTPS://Partner.Example:443"}}, "partner.example"),
    (PARTNER, False, {"referer": f"?partner={PARTNER}"}, "partner.example"),
    (PARTNER, False, {"query": f"?partner={PARTNER}"}, "partner.example"),
    (PARTNER, False, {"referer": "?source=partner.example"}, "partner.example"),
    (PARTNER, False, {"form": {"partner": "https://stranger.example"}}, None),
    (PARTNER, False, {"referer": "?source=made-up"}, None),
    (PARTNER, False, {"form": {"source": "made-up"}}, None),
    (PARTNER, False, {"form": {"partner": "https://partner.example.evil.test"}}, None),
    (PARTNER, False, {"referer": "?partner=https://stranger.example", "referer_host": "https://stranger.example"},
     None),
    (PARTNER, False, {}, None),
    ("", True, {"form": {"partner": "https://blog.example"}}, "blog.example"),
    ("", True, {"referer": "?source=Newsletter"}, "newsletter"),
    ("", True, {"form": {"partner": "<b>=1+1</b>"}}, "b-1-1-b"),
]


@pytest.mark.parametrize("origins, anyone, claim, expected", SOURCES, ids=[
    "partner-field", "partner-field-as-typed", "partner-in-referer", "partner-in-post-query", "source-naming-partner",
    "stranger-partner", "made-up-source", "made-up-source-field", "lookalike-host", "referer-from-another-site",
    "no-claim", "anyone-partner", "anyone-source", "anyone-markup-normalised"])
def test_an_embedded_signature_records_its_partner_as_its_source(ctx, client, origins, anyone, claim, expected):
    """Source: the partner's host if it is believed (one of the partners, or
    anyone may embed); medium "embed"; a stranger cannot make one up."""
    make_campaign(slug="sourced", embed_origins=origins, embed_anyone=anyone)
    referer = claim.get("referer_host", SITE) + "/c/sourced/embed" + claim.get("referer", "")
    sign_in_frame(client, "sourced", query=claim.get("query", ""), headers={"Referer": referer},
                  **claim.get("form", {}))
    signature = the_signature()
    assert (signature.source, signature.medium) == (expected, "embed")


def test_the_frames_link_codes_pass_through(ctx, client):
    """utm_campaign and a signer's referral code on the frame's address are
    kept as on any link; the medium is "embed" whatever the link says."""
    campaign = make_campaign(slug="codes", embed_origins=PARTNER)
    sign_in_frame(client, "codes", email="first@example.com")
    referrer = the_signature("first@example.com")
    sign_in_frame(client, "codes", headers={
        "Referer": f"{SITE}/c/codes/embed?partner={PARTNER}&utm_campaign=Autumn&utm_medium=email"
                   f"&ref={referrer.referral_code}"})
    signature = the_signature()
    assert (signature.source, signature.medium, signature.source_campaign) == ("partner.example", "embed", "autumn")
    assert signature.referred_by_id == referrer.id and signature.campaign_id == campaign.id


def test_a_signature_on_the_campaign_page_is_not_an_embedded_one(ctx, client):
    """The campaign page's own POST records its link codes as before, never "embed"."""
    make_campaign(slug="direct", embed_origins=PARTNER)
    token = csrf_token(client.get("/c/direct").get_data(as_text=True))
    client.post("/c/direct/sign", data={**valid_pledge(), "csrf_token": token, "partner": PARTNER},
                headers={"Referer": f"{SITE}/c/direct?source=poster"})
    assert (the_signature().source, the_signature().medium) == ("poster", None)


@pytest.mark.parametrize("claim, host", [
    ("https://a.example", "a.example"), ("http://a.example:8080", "a.example"), ("a.example", "a.example"),
    ("HTTPS://A.EXAMPLE/", "a.example"), ("", None), (None, None), ("https://", None), ("http://[::1]:80", "1"),
])
def test_the_host_a_claim_names(claim, host):
    assert embeds._claimed_host(claim) == host


# --- Rate limits: one allowance, whichever form ----------------------------------------------

def test_the_page_and_its_frame_share_one_signing_allowance(limited_app):
    """Signing through the frame is no way around the campaign's per-address limit."""
    client = limited_app.test_client()
    with limited_app.app_context():
        make_campaign(slug="limited", embed_origins=PARTNER)
    token = csrf_token(client.get("/c/limited").get_data(as_text=True))
    statuses = [client.post("/c/limited/sign", data={**valid_pledge(email="p1@example.com"), "csrf_token": token})
                .status_code,
                client.post("/c/limited/embed/sign", data={**valid_pledge(email="p2@example.com"), "csrf_token": token})
                .status_code,
                client.post("/c/limited/sign", data={**valid_pledge(email="p3@example.com"), "csrf_token": token})
                .status_code,
                client.post("/c/limited/embed/sign", data={**valid_pledge(email="p4@example.com"), "csrf_token": token})
                .status_code]
    assert statuses == [200, 200, 200, 429]


# --- Origins an organiser types -------------------------------------------------------------------

@pytest.mark.parametrize("typed, kept", [
    ("https://partner.example", ("https://partner.example",)),
    ("HTTPS://Partner.Example/", ("https://partner.example",)),
    ("  https://partner.example:443  \n\nhttp://localhost:8080\n", ("https://partner.example", "http://localhost:8080")),
    ("http://partner.example:80", ("http://partner.example",)),
    ("https://partner.example\nhttps://partner.example/", ("https://partner.example",)),
    ("https://bücher.example", ("https://xn--bcher-kva.example",)),
    ("http://127.0.0.1:5000", ("http://127.0.0.1:5000",)),
    ("https://[2001:db8::1]:8443", ("https://[2001:db8::1]:8443",)),
    ("", ()),
    ("\n \n", ()),
], ids=["plain", "case-and-slash", "spaces-blank-lines-default-port", "http-default-port", "repeated", "idn",
        "ipv4-port", "ipv6", "empty", "blank"])
def test_origins_are_kept_as_browsers_write_them(ctx, typed, kept):
    assert embeds.parse_origins(typed) == kept


BAD_ORIGINS = [
    ("partner.example", "Line 1 must start with https:// (or http://), as in https://example.org."),
    ("ftp://partner.example", "Line 1 must start with https:// (or http://), as in https://example.org."),
    ("javascript://alert(1)", "Line 1 must start with https:// (or http://), as in https://example.org."),
    ("//partner.example", "Line 1 must start with https:// (or http://), as in https://example.org."),
    ("https://partner.example\nhttps://partner.example/petition",
     "Line 2: give only the site's address, without a path, as in https://example.org."),
    ("https://partner.example/?a=1", "Line 1: give only the site's address, without a path, as in https://example.org."),
    ("https://partner.example#top", "Line 1: give only the site's address, without a path, as in https://example.org."),
    ("https://user:secret@partner.example", "Line 1: a site's address has no user name or password."),
    ("https://partner.example:99999", "Line 1: the port must be a number from 1 to 65535."),
    ("https://partner.example:http", "Line 1: the port must be a number from 1 to 65535."),
    ("https://partner.example:0", "Line 1: the port must be a number from 1 to 65535."),
    ("https://*.partner.example", "Line 1: list each site on a line of its own; a * cannot stand for several."),
    ("https://", "Line 1 has no site's name after https://."),
    ("https://part ner.example", "Line 1 has a space or an invisible character in it."),
    ("https://partner.example; script-src *", "Line 1 has a space or an invisible character in it."),
    ("https://partner\x00.example", "Line 1 has a space or an invisible character in it."),
    ("https://under_score.example", "Line 1: “under_score.example” is not a site's name."),
    ("https://-dash.example", "Line 1: “-dash.example” is not a site's name."),
    ("https://a..example", "Line 1: “a..example” is not a site's name."),
    ("https://" + "a" * 64 + ".example", "Line 1: “" + "a" * 60 + "” is not a site's name."),
    ("https://" + "a" * 200 + ".example", "Line 1 is too long: a site's address has at most 200 characters."),
    ("\n".join(f"https://p{n}.example" for n in range(21)), "The list is too long: at most 20 sites."),
    ("x" * 5000, "The list is too long: at most 20 sites."),
]


@pytest.mark.parametrize("typed, message", BAD_ORIGINS, ids=[
    "no-scheme", "ftp", "javascript", "scheme-relative", "path-on-line-2", "query", "fragment", "credentials",
    "port-too-big", "port-not-a-number", "port-zero", "wildcard", "no-host", "space", "csp-injection", "nul-byte",
    "underscore", "leading-dash", "empty-label", "label-too-long", "line-too-long", "too-many", "field-too-long"])
def test_each_bad_origin_gets_its_own_message_on_the_embed_tab(app, client, typed, message):
    """The Embed tab sends the list back (422) with what is wrong and keeps nothing."""
    with app.app_context():
        campaign = make_campaign(slug="tab", embed_origins=PARTNER)
        make_organiser(campaigns=[campaign])
        campaign_id = campaign.id
    log_in(client)
    page = client.get("/organiser/c/tab/embed")
    response = client.post("/organiser/c/tab/embed", data={
        "origins": typed, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 422
    assert error_messages(response.get_data(as_text=True)) == [message]
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).embed_origins == PARTNER


# --- The Embed tab ----------------------------------------------------------------------------

def test_the_embed_tab_shows_the_snippets_and_a_preview(app, client):
    with app.app_context():
        campaign = make_campaign(slug="tabbed", title='Stop "ads" <now>')
        make_organiser(campaigns=[campaign])
    log_in(client)
    response = client.get("/organiser/c/tabbed/embed")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # A textarea shows the snippet as text: the title's quotes escaped in
    # the snippet, and the snippet escaped again for the page.
    assert ('&lt;script src=&#34;http://campaigns.test/static/embed.js&#34; data-campaign=&#34;tabbed&#34; '
            'data-title=&#34;Stop &amp;#34;ads&amp;#34; &amp;lt;now&amp;gt;&#34; async&gt;&lt;/script&gt;') in html
    assert '&lt;iframe src=&#34;http://campaigns.test/c/tabbed/embed&#34;' in html
    assert '<iframe class="embed-preview" src="/c/tabbed/embed"' in html
    assert 'href="/organiser/c/tabbed/embed"' in html  # the campaign's tabs link to it


def test_a_drafts_embed_tab_explains_why_there_is_no_preview(app, client):
    with app.app_context():
        make_organiser(campaigns=[make_campaign(slug="drafty", status=CampaignStatus.DRAFT)])
    log_in(client)
    html = client.get("/organiser/c/drafty/embed").get_data(as_text=True)
    assert "The preview shows once the campaign is published" in html and "<iframe" not in html


def test_saving_the_partners_is_audited_and_reaches_the_frame(app, client):
    with app.app_context():
        campaign = make_campaign(slug="saved")
        make_organiser(campaigns=[campaign])
        campaign_id, edition = campaign.id, campaign.edition
    log_in(client)
    token = csrf_token(client.get("/organiser/c/saved/embed").get_data(as_text=True))
    response = client.post("/organiser/c/saved/embed", data={
        "origins": "HTTPS://News.Example/\nhttp://localhost:8000", "anyone": "", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/organiser/c/saved/embed")
    assert "Saved: who may show this campaign" in client.get("/organiser/c/saved/embed").get_data(as_text=True)
    with app.app_context():
        saved = db.session.get(Campaign, campaign_id)
        assert saved.embed_origins == "https://news.example\nhttp://localhost:8000" and not saved.embed_anyone
        assert saved.edition > edition
        [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "campaign.edited")).scalars()
        assert event.campaign_id == campaign_id and event.detail == {"fields": ["embed_origins"]}
    assert frame_ancestors(client.get("/c/saved/embed")) == \
        "frame-ancestors 'self' https://news.example http://localhost:8000"

    client.post("/organiser/c/saved/embed", data={"origins": "", "anyone": "y", "csrf_token": token})
    assert frame_ancestors(client.get("/c/saved/embed")) == "frame-ancestors 'self' *"
    with app.app_context():
        details = [e.detail for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "campaign.edited").order_by(AuditEvent.id)).scalars()]
        assert details == [{"fields": ["embed_origins"]}, {"fields": ["embed_origins", "embed_anyone"]}]


def test_saving_nothing_new_records_nothing(app, client):
    with app.app_context():
        make_organiser(campaigns=[make_campaign(slug="same", embed_origins=PARTNER)])
    log_in(client)
    token = csrf_token(client.get("/organiser/c/same/embed").get_data(as_text=True))
    assert client.post("/organiser/c/same/embed", data={"origins": PARTNER + "/", "csrf_token": token}
                       ).status_code == 303
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "campaign.edited")).first() is None


# --- Weight -----------------------------------------------------------------------------------

def gzipped(data: bytes) -> int:
    """Bytes on the wire, as a server that compresses sends them (nginx's
    default level, the lowest: the figure is an upper bound)."""
    return len(gzip.compress(data, compresslevel=1))


def test_embed_js_is_under_3_kb_gzipped():
    data = (STATIC / "embed.js").read_bytes()
    assert gzipped(data) < 3 * 1024, gzipped(data)


def test_the_embed_page_is_under_30_kb_transferred(ctx, client):
    """The page, its stylesheet and its scripts (the campaign image aside),
    compressed as the deployment sends them (deploy/nginx: HTML, CSS and
    JavaScript gzipped): under 30 KB, for a campaign with questions."""
    campaign = make_campaign(slug="light", embed_origins=PARTNER, kind=Kind.PLEDGE, asks_date=True,
                             date_question="I will start on", asks_reason=True)
    for n in range(5):
        questions.add_question(campaign, f"Question number {n} of the campaign's own", "choice",
                               choices=["One answer", "Another answer", "A third answer"])
    response = client.get("/c/light/embed")
    html = response.get_data()
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
    assert {a.rsplit(b"/", 1)[-1] for a in assets} == {b"site.css", b"site.js", b"embed.js"}
    total = gzipped(html)
    for asset in assets:
        served = client.get(asset.decode())
        assert served.status_code == 200
        total += gzipped(served.get_data())
        served.close()
    assert total < 30 * 1024, f"{total} bytes"
