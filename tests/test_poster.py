"""A campaign's poster: an A4 page to print with its pledge and a QR code
that opens the campaign page marked as coming from a poster, the short
address printed under it for those who type; linked from the campaign's
share section and from its dashboard."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import segno

from campaign.models import CampaignStatus, Kind

from .builders import log_in, make_campaign, make_organiser

SITE_URL = "http://campaigns.test"
CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "site.css"


class _Text(HTMLParser):
    """The text a person reads in <main>, without the SVG's insides."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._depth = {"main": 0, "svg": 0}

    def handle_starttag(self, tag, attrs):
        if tag in self._depth:
            self._depth[tag] += 1

    def handle_endtag(self, tag):
        if tag in self._depth:
            self._depth[tag] -= 1

    def handle_data(self, data):
        if self._depth["main"] and not self._depth["svg"]:
            self.parts.append(data)


def text_of(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    return " ".join(" ".join(reader.parts).split())


def the_svg(html: str) -> str:
    [svg] = re.findall(r"<svg\b.*?</svg>", html, re.S)
    return svg


def test_the_poster_carries_the_pledge_a_qr_code_to_the_campaign_from_a_poster_and_the_short_address(
        client, ctx):
    make_campaign(slug="pause-ads", kind=Kind.BOYCOTT, title="Pause the ads in July",
                  summary="Brands pause their ads.", pledge_text="I will not advertise there in July.")
    response = client.get("/c/pause-ads/poster")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "Pause the ads in July" in text
    assert "I will not advertise there in July." in text
    assert "Scan to sign the pledge" in text
    assert "or go to campaigns.test/c/pause-ads" in text

    svg = the_svg(html)
    made = segno.make(f"{SITE_URL}/c/pause-ads?source=poster", error="m").svg_inline(
        border=4, dark="#000", light="#fff", svgclass="qr", omitsize=True,
        title="QR code: a link to campaigns.test/c/pause-ads")
    assert svg == made.replace("<svg ", '<svg role="img" ', 1), "the code segno makes for the poster's link"
    assert 'role="img"' in svg and "<title>QR code: a link to campaigns.test/c/pause-ads</title>" in svg
    assert "viewBox" in svg and "width=" not in svg.split(">")[0], "scales to the printed size"


def test_a_freeze_s_poster_asks_to_join_it(client, ctx):
    make_campaign(slug="quiet-day", kind=Kind.FREEZE, title="A quiet day")
    assert "Scan to join the freeze" in text_of(client.get("/c/quiet-day/poster").get_data(as_text=True))


def test_the_poster_is_the_same_for_everyone_and_may_be_cached(client, ctx):
    make_campaign(slug="cached")
    first = client.get("/c/cached/poster")
    assert "public" in first.headers["Cache-Control"] and "Set-Cookie" not in first.headers
    assert client.get("/c/cached/poster?source=x").get_data() == first.get_data()
    assert client.get("/c/cached/poster", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("status, found", [
    (CampaignStatus.LIVE, 200), (CampaignStatus.CLOSED, 200), (CampaignStatus.DRAFT, 404)])
def test_only_a_public_campaign_has_a_poster(client, ctx, status, found):
    make_campaign(slug="which", status=status)
    assert client.get("/c/which/poster").status_code == found


def test_a_title_with_markup_is_printed_as_text(client, ctx):
    make_campaign(slug="sly", title="<script>alert(1)</script>", pledge_text="<img src=x onerror=alert(1)>")
    html = client.get("/c/sly/poster").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_qr_code_follows_the_site_s_address(app_with):
    app = app_with(SITE_URL="https://act.example.org/")
    with app.app_context():
        make_campaign(slug="moved")
    html = app.test_client().get("/c/moved/poster").get_data(as_text=True)
    assert "act.example.org/c/moved" in text_of(html)
    made = segno.make("https://act.example.org/c/moved?source=poster", error="m")
    assert made.svg_inline(svgclass="qr", omitsize=True, title="QR code: a link to act.example.org/c/moved",
                           border=4, dark="#000", light="#fff").split("<path", 1)[1] in the_svg(html)


def test_the_poster_is_linked_from_the_share_section_and_the_dashboard(client, ctx):
    campaign = make_campaign(slug="linked")
    for page in (f"/c/{campaign.slug}", f"/c/{campaign.slug}/thanks"):
        assert 'href="/c/linked/poster"' in client.get(page).get_data(as_text=True), page
    make_organiser(campaigns=[campaign])
    log_in(client)
    assert 'href="/c/linked/poster"' in client.get("/organiser/c/linked/").get_data(as_text=True)


def test_a_draft_s_dashboard_does_not_link_to_a_poster_that_is_not_there(client, ctx):
    campaign = make_campaign(slug="not-yet", status=CampaignStatus.DRAFT)
    make_organiser(campaigns=[campaign])
    log_in(client)
    assert "/c/not-yet/poster" not in client.get("/organiser/c/not-yet/").get_data(as_text=True)


def test_the_print_stylesheet_makes_one_a4_sheet_without_the_site_around_it():
    css = CSS.read_text()
    assert re.search(r"@page\s*{\s*size:\s*A4", css)
    rules = css.split("@media print", 1)[1]
    for hidden in (".site-header", ".site-footer", ".poster-tools"):
        assert hidden in rules.split("display: none")[0]
