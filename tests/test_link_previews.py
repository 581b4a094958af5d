"""A link pasted into a social network or a messenger shows a preview: every
public page says what it is (Open Graph and Twitter card tags) and names its
canonical address, without the query string a shared link arrives with; its
image is the campaign's own or a card drawn from its title and count, a real
PNG of 1200 x 630, drawn once per edition and rounded count."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from campaign import cards
from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, Kind, Signature

from .builders import at_once, confirm_link, confirmed_signatures, log_in, make_campaign, make_organiser, sign

SITE_URL = "http://campaigns.test"
TAGS = ["og:url", "og:type", "og:site_name", "og:title", "og:description", "og:image", "twitter:card"]


class _Head(HTMLParser):
    """The <head>'s meta tags (by property or name) and its canonical link."""

    def __init__(self):
        super().__init__()
        self.tags: dict[str, list[str]] = {}
        self.canonical: list[str] = []
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self._in_head = True
        elif self._in_head and tag == "meta" and ("property" in attrs or "name" in attrs):
            self.tags.setdefault(attrs.get("property") or attrs["name"], []).append(attrs.get("content", ""))
        elif self._in_head and tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False


def preview_of(html: str) -> dict[str, str]:
    """Each link-preview tag's one value, and "canonical"; fails on a tag
    missing or given twice."""
    head = _Head()
    head.feed(html)
    found = {}
    for name in TAGS:
        values = head.tags.get(name, [])
        assert len(values) == 1, f"{name}: {values}"
        found[name] = values[0]
    assert len(head.canonical) == 1, head.canonical
    found["canonical"] = head.canonical[0]
    found.update({name: values[0] for name, values in head.tags.items() if name not in found})
    return found


def fetch(client, url: str):
    """An absolute URL of the site, fetched as a scraper would."""
    assert url.startswith(SITE_URL + "/"), url
    parts = urlsplit(url)
    return client.get(parts.path, query_string=parts.query)


def assert_is_a_card(response) -> Image.Image:
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.get_data()))
    image.load()
    assert image.format == "PNG" and image.size == (1200, 630)
    return image


@pytest.fixture(autouse=True)
def instance_folder(app, tmp_path):
    """Uploaded images go to a temporary instance folder."""
    app.instance_path = str(tmp_path / "instance")
    return Path(app.instance_path)


@pytest.fixture
def world(ctx, client):
    """A campaign without an image, one with an image, a boycott, a closed one."""
    plain = make_campaign(slug="plain", title="Pause the ads", summary="Brands pause their ads for July.")
    pictured = make_campaign(slug="pictured", title="With a picture", summary="Look at this.")
    folder = Path(ctx.instance_path) / "uploads"
    folder.mkdir(parents=True)
    image = io.BytesIO()
    Image.new("RGB", (800, 400), (200, 30, 30)).save(image, "PNG")
    (folder / "0123456789abcdef0123456789abcdef.png").write_bytes(image.getvalue())
    pictured.image_filename = "0123456789abcdef0123456789abcdef.png"
    make_campaign(slug="boycott", kind=Kind.BOYCOTT, title="A boycott")
    make_campaign(slug="over", title="Over now", status=CampaignStatus.CLOSED)
    db.session.commit()
    return {"plain": plain, "pictured": pictured, "image": image.getvalue()}


# Every public page a person can share or land on, and the canonical address it names.
PUBLIC_PAGES = [
    ("/", "/"),
    ("/privacy", "/privacy"),
    ("/c/plain", "/c/plain"),
    ("/c/plain?source=newsletter&utm_medium=email&ref=abc", "/c/plain"),
    ("/c/pictured", "/c/pictured"),
    ("/c/over", "/c/over"),
    ("/c/plain/poster?source=x", "/c/plain/poster"),
    ("/c/plain/thanks", "/c/plain"),
    ("/c/boycott/business/thanks", "/c/boycott"),
]


@pytest.mark.parametrize("path, canonical", PUBLIC_PAGES, ids=[p for p, _ in PUBLIC_PAGES])
def test_every_public_page_has_link_preview_tags_and_an_image_that_loads(client, world, path, canonical):
    response = client.get(path)
    assert response.status_code == 200
    tags = preview_of(response.get_data(as_text=True))
    assert tags["canonical"] == tags["og:url"] == SITE_URL + canonical
    assert "?" not in tags["canonical"]
    assert tags["og:type"] == "website"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:site_name"] and tags["og:title"] and tags["og:description"]
    assert tags["og:image"].startswith(SITE_URL + "/")
    image = fetch(client, tags["og:image"])
    assert image.status_code == 200 and image.mimetype.startswith("image/")
    if "og:image:width" in tags:
        assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
        assert_is_a_card(image)


def test_a_campaign_without_an_image_is_previewed_with_a_card_of_its_title_and_count(client, world):
    tags = preview_of(client.get("/c/plain").get_data(as_text=True))
    assert tags["og:title"] == "Pause the ads"
    assert tags["og:description"] == "Brands pause their ads for July."
    assert urlsplit(tags["og:image"]).path == "/c/plain/card.png"
    assert tags["og:image:alt"] == "Pause the ads"
    assert_is_a_card(fetch(client, tags["og:image"]))


def test_a_campaign_with_an_image_is_previewed_with_that_image(client, world):
    tags = preview_of(client.get("/c/pictured").get_data(as_text=True))
    assert re.fullmatch(rf"{SITE_URL}/media/[0-9a-f]{{32}}\.png", tags["og:image"])
    assert "og:image:width" not in tags, "its size is not ours to state"
    assert fetch(client, tags["og:image"]).get_data() == world["image"]


def test_the_site_s_own_pages_are_previewed_as_the_site(client, world):
    front, privacy = (preview_of(client.get(path).get_data(as_text=True)) for path in ("/", "/privacy"))
    assert front["og:title"] == front["og:site_name"]
    assert privacy["og:title"].startswith("Privacy notice")
    assert urlsplit(front["og:image"]).path == "/card.png"
    assert_is_a_card(fetch(client, front["og:image"]))


def test_a_shared_link_s_query_string_changes_nothing_in_the_page(client, world):
    """The campaign page stays one cached page: the same bytes whatever
    source codes the link carries, canonical address included."""
    plain = client.get("/c/plain").get_data()
    assert client.get("/c/plain?source=newsletter&utm_campaign=july").get_data() == plain


def test_pages_after_signing_and_confirming_point_at_the_campaign_and_never_at_a_token(client, world, smtp,
                                                                                     deliver):
    """The answer to the sign POST and the emailed confirm page are personal:
    their previews name the campaign page, and no tag carries the token."""
    thanks = sign(client, "plain", email="ada@example.com")
    assert thanks.status_code == 200
    assert preview_of(thanks.get_data(as_text=True))["canonical"] == f"{SITE_URL}/c/plain"
    deliver()
    [email] = smtp.to("ada@example.com")
    path = confirm_link(email.text)
    confirm_page = client.get(path).get_data(as_text=True)
    tags = preview_of(confirm_page)
    assert tags["canonical"] == tags["og:url"] == f"{SITE_URL}/c/plain"
    token = path.rsplit("/", 1)[1]
    assert all(token not in value for value in tags.values())


def test_organiser_pages_carry_no_link_preview(client, world):
    make_organiser()
    log_in(client)
    html = client.get("/organiser/").get_data(as_text=True)
    head = _Head()
    head.feed(html)
    assert not head.canonical and "og:url" not in head.tags


def test_error_pages_carry_no_link_preview(client, world):
    response = client.get("/c/no-such-campaign")
    assert response.status_code == 404
    head = _Head()
    head.feed(response.get_data(as_text=True))
    assert not head.canonical and "og:image" not in head.tags


def test_a_title_with_markup_stays_text_in_the_tags(client, ctx):
    make_campaign(slug="sly", title='Sly" onload="alert(1)<script>', summary="<b>bold</b> & more")
    html = client.get("/c/sly").get_data(as_text=True)
    assert "<script>" not in html.split("</head>")[0]
    tags = preview_of(html)
    assert tags["og:title"] == 'Sly" onload="alert(1)<script>'
    assert tags["og:description"] == "<b>bold</b> & more"
    assert_is_a_card(client.get("/c/sly/card.png"))


# --- The card ------------------------------------------------------------------------------

@pytest.mark.parametrize("count, shown", [
    (0, 0), (1, 1), (99, 99), (100, 100), (101, 100), (999, 990), (1_050, 1_000), (12_345, 12_000),
    (99_999, 99_000), (1_234_567, 1_200_000),
])
def test_a_card_shows_the_count_rounded_down_to_two_digits(count, shown):
    assert cards.rounded_count(count) == shown


@pytest.fixture
def drawings(monkeypatch):
    """Each card drawn, by its title and figure."""
    drawn = []
    draw = cards.card_png

    def counting(title, figure, *args):
        drawn.append((title, figure))
        return draw(title, figure, *args)

    monkeypatch.setattr(cards, "card_png", counting)
    return drawn


def test_a_card_is_drawn_once_per_edition_and_count_and_kept_by_caches(client, world, drawings):
    first = client.get("/c/plain/card.png")
    assert_is_a_card(first)
    cache = first.headers["Cache-Control"]
    assert "public" in cache and "max-age=600" in cache
    assert "Set-Cookie" not in first.headers
    assert client.get("/c/plain/card.png?v=other").get_data() == first.get_data()
    assert client.get("/c/plain/card.png", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert drawings == [("Pause the ads", "0")]

    confirmed_signatures(world["plain"], [("one@example.com", "GB")])
    assert_is_a_card(client.get("/c/plain/card.png"))
    world["plain"].title = "Pause the ads, now"
    db.session.commit()
    assert_is_a_card(client.get("/c/plain/card.png"))
    assert drawings == [("Pause the ads", "0"), ("Pause the ads", "1"), ("Pause the ads, now", "1")]


def test_scrapers_asking_for_a_new_card_together_have_it_drawn_once(app, world, drawings):
    """A link shared widely is previewed by many scrapers in the same
    moment: the first of them has the card drawn, the others wait for it."""
    fetched = at_once(app, lambda: app.test_client().get("/c/plain/card.png").get_data(), workers=8)
    assert len(set(fetched)) == 1
    assert_is_a_card(app.test_client().get("/c/plain/card.png"))
    assert drawings == [("Pause the ads", "0")]


def test_the_preview_names_the_card_of_the_campaign_s_edition(client, world):
    before = preview_of(client.get("/c/plain").get_data(as_text=True))["og:image"]
    world["plain"].summary = "Edited."
    db.session.commit()
    after = preview_of(client.get("/c/plain").get_data(as_text=True))["og:image"]
    assert before != after and urlsplit(after).path == "/c/plain/card.png"


@pytest.mark.parametrize("title", [
    "A", "A title long enough to need three lines on the card, and then some more words to make it spill over "
         "the last line so that it has to end with an ellipsis somewhere",
    "Eine_Überschrift_ohne_Leerzeichen_die_breiter_ist_als_die_ganze_Karte_und_trotzdem_umbrechen_muss",
    "حملة المقاطعة", "不買運動に参加しよう", "🙂 emoji",
], ids=["short", "long", "one-long-word", "arabic", "japanese", "emoji"])
def test_any_title_makes_a_card(client, ctx, title):
    campaign = make_campaign(title=title)
    assert_is_a_card(client.get(f"/c/{campaign.slug}/card.png"))


def test_a_card_is_drawn_without_the_dejavu_fonts(monkeypatch):
    monkeypatch.setattr(cards, "_FONT_FOLDER", Path("/nonexistent"))
    cards._font.cache_clear()
    try:
        image = Image.open(io.BytesIO(cards.card_png("A title", "1,200+", "have signed", "Site", "#1d4f91")))
        assert image.size == (1200, 630)
    finally:
        cards._font.cache_clear()


@pytest.mark.parametrize("accent", ["#1d4f91", "not a colour", ""])
def test_a_card_survives_any_accent_colour(accent):
    assert Image.open(io.BytesIO(cards.card_png("T", "", "caption", "Site", accent))).size == (1200, 630)


def test_no_card_for_a_draft_or_a_campaign_that_does_not_exist(client, ctx):
    make_campaign(slug="draft", status=CampaignStatus.DRAFT)
    assert client.get("/c/draft/card.png").status_code == 404
    assert client.get("/c/no-such-campaign/card.png").status_code == 404
    assert client.get("/c/draft/poster").status_code == 404


def test_the_signature_count_on_the_card_is_read_from_the_tallies(client, world, drawings):
    """Pending signatures are not counted, on the card as on the page."""
    sign(client, "plain", email="pending@example.com")
    assert db.session.scalar(select(Signature.status).where(Signature.email == "pending@example.com")) == "pending"
    client.get("/c/plain/card.png")
    assert drawings[-1] == ("Pause the ads", "0")
    assert db.session.get(Campaign, world["plain"].id) is not None


def test_the_tags_leave_the_page_s_own_variables_alone(client, world):
    """The public page shows no organiser's preview banner, and the
    organiser's preview still shows it (the tags' values live in their own scope)."""
    assert "preview-banner" not in client.get("/c/plain").get_data(as_text=True)
    make_organiser(campaigns=[world["plain"]])
    log_in(client)
    assert "preview-banner" in client.get("/organiser/c/plain/preview").get_data(as_text=True)
