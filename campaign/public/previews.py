"""Link previews: what a page says about itself when its address is pasted
into a social network or a messenger (Open Graph and Twitter card tags,
and its canonical address), and the card image those previews show.

The tags are written by templates/base.html from ``link_preview``. A page
about a campaign describes the campaign; the site's own pages (the list of
campaigns, the privacy notice) describe the site. Everything in them comes
from the campaign's edition and SITE_URL, never from the request's query
string, so a campaign page built once per edition (campaign/campaign_page)
stays one cached page: ``/c/x?source=newsletter`` names ``/c/x`` as its
canonical address. A campaign without an image of its own gets a card
drawn here with its title and count, kept per edition and rounded count
(campaign/cards), so previews fetched in a spike cost one drawing."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, abort, current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import cards, formats, translations
from ..built_once import BuiltOnce
from ..campaign_page import answer_language
from ..extensions import db
from ..links import absolute_url, page_url
from ..models import Campaign, CampaignStatus
from ..page_reads import live_campaign
from ..site_settings import site
from .views import bp

# Scrapers and CDNs may keep a card this long; its count is rounded anyway.
CARD_MAX_AGE = 600
# Pages whose own address is their canonical one; any other page about a
# campaign (after signing, confirming: personal, or answers to a POST)
# points at the campaign page, and any other page at the site's front page.
_OWN_ADDRESS = {"public.index", "public.privacy", "public.campaign_page", "public.poster"}


def _site_description() -> str:
    return _("Add your name to a campaign and share it. Every confirmed signature counts.")


@dataclass(frozen=True)
class LinkPreview:
    url: str
    site_name: str
    title: str  # "" for the page's own <title>
    description: str
    image: str
    image_alt: str
    image_size: tuple[int, int] | None  # known for our own cards only


@bp.app_template_global()
def link_preview(campaign=None) -> LinkPreview | None:
    """The tags of this public page, about ``campaign`` if it is given (a
    Campaign, or any summary with its slug and title); None off the public
    pages (organisers', errors of routing)."""
    if not has_request_context() or request.blueprint != "public" or request.url_rule is None:
        return None
    settings = site()
    if getattr(campaign, "status", None) == CampaignStatus.DRAFT:
        campaign = None  # a page about a draft (a stale link) says nothing of it
    # In the page's own language: /es/c/x is the Spanish page's own address.
    if request.endpoint in _OWN_ADDRESS:
        url = page_url(request.endpoint, **(request.view_args or {}))
    elif campaign is not None:
        url = page_url("public.campaign_page", slug=campaign.slug)
    else:
        url = page_url("public.index")
    if campaign is None:
        return LinkPreview(
            url=url, site_name=settings.name, title="",
            description=_site_description(),
            image=absolute_url("public.site_card", v=settings.version), image_alt=settings.name,
            image_size=cards.CARD_SIZE)
    image_name = getattr(campaign, "image_filename", None)
    return LinkPreview(
        url=url, site_name=settings.name, title=campaign.title,
        description=getattr(campaign, "summary", "") or getattr(campaign, "share_text", "") or campaign.title,
        image=absolute_url("public.media", name=image_name) if image_name
        else page_url("public.campaign_card", slug=campaign.slug, v=campaign.edition),
        image_alt=campaign.title, image_size=None if image_name else cards.CARD_SIZE)


# Each app's drawn cards, the most recently used kept; one drawing per key
# at a time, so the scrapers that fetch a new card together wait for it.
_CARDS: BuiltOnce[bytes] = BuiltOnce("link_cards", maxsize=128)


def _png(png: bytes) -> Response:
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = f"public, max-age={CARD_MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/c/<slug>/card.png")
def campaign_card(slug: str):
    """The campaign's title and count as a picture, for link previews. The
    count is rounded (see cards.rounded_count), so it is drawn again only
    when the campaign is edited or the rounded count moves on."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        abort(404)
    settings = site()
    shown = cards.rounded_count(live.count)
    figure = formats.number(shown) + ("+" if shown < live.count else "")  # as the card's language writes it
    # The title in the card's language (its address's, if the campaign is published in it).
    language = answer_language(live)
    key = ("campaign", live.id, live.edition, figure, settings.version, str(get_locale()), language)

    def draw() -> bytes:
        campaign = db.session.get(Campaign, live.id)
        title = translations.campaign_text(campaign, language).title
        return cards.card_png(title, figure, _("have signed"), settings.name, settings.accent_colour)

    return _png(_CARDS.get(key, draw))


@bp.get("/card.png")
def site_card():
    """The site's name as a picture, for previews of its own pages."""
    settings = site()
    key = ("site", settings.version, str(get_locale()))
    return _png(_CARDS.get(key, lambda: cards.card_png(
        settings.name, "", _site_description(), urlsplit(current_app.config["SITE_URL"]).netloc,
        settings.accent_colour)))
