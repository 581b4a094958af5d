"""A campaign's printable poster: its pledge and a QR code to its page, for
a noticeboard, a shop window or a flyer. The QR code's link says it came
from a poster (``?source=poster``), so signatures from paper are counted
as such; the address printed under it is the short one a person can type."""
from __future__ import annotations

from flask import abort, make_response, render_template
from flask_babel import gettext as _

from .. import campaigns, cards, translations
from ..campaign_page import answer_language
from ..links import absolute_url
from ..models import CampaignStatus
from ..shared_pages import cache_publicly
from .views import bp


@bp.get("/c/<slug>/poster")
def poster(slug: str):
    """An A4 page to print: the same for everyone, so shared caches may keep it."""
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        abort(404)
    # The poster, its text and the page its code leads to in this page's language.
    language = answer_language(campaign)
    address = absolute_url("public.campaign_page", language=language, unprefixed=campaign.default_language,
                           slug=campaign.slug)
    short_address = address.split("://", 1)[-1]
    qr = cards.qr_svg(f"{address}?source=poster", _("QR code: a link to %(address)s", address=short_address))
    return cache_publicly(make_response(render_template(
        "public/poster.html", campaign=translations.in_language(campaign, language), qr=qr,
        short_address=short_address, page_languages=translations.page_languages(campaign))))
