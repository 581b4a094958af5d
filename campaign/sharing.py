"""Share links: plain URLs to each service, no third-party scripts."""
from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import has_request_context
from flask_babel import gettext as _

from .links import absolute_url, page_url
from .models import Campaign


def share_links(campaign: Campaign) -> dict:
    """The campaign's link and share buttons, in its words on this page (a
    campaign, or one as a language shows it: see translations), to the
    page in this page's language."""
    url = page_url("public.campaign_page", slug=campaign.slug) if has_request_context() \
        else absolute_url("public.campaign_page", slug=campaign.slug)
    return {"url": url, "links": _links(url, campaign.title, campaign.share_text or campaign.title, _("Email"))}


@lru_cache(maxsize=512)
def _links(url: str, title: str, message: str, email_label: str) -> tuple:
    # The same for every visitor to a campaign: built once, not per page view.
    return (
        (email_label, "mailto:?" + urlencode({"subject": title, "body": f"{message}\n\n{url}"}, quote_via=quote)),
        ("X", "https://x.com/intent/post?" + urlencode({"text": message, "url": url})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ("WhatsApp", "https://wa.me/?" + urlencode({"text": f"{message} {url}"})),
        ("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": message})),
    )
