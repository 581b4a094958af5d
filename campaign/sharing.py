"""Share links: plain URLs to each service, no third-party scripts."""
from urllib.parse import quote, urlencode

from flask_babel import gettext as _

from .links import absolute_url
from .models import Campaign


def share_links(campaign: Campaign) -> dict:
    url = absolute_url("public.campaign_page", slug=campaign.slug)
    message = campaign.share_text or campaign.title
    return {
        "url": url,
        "links": [
            (_("Email"), "mailto:?" + urlencode({"subject": campaign.title, "body": f"{message}\n\n{url}"}, quote_via=quote)),
            ("X", "https://x.com/intent/post?" + urlencode({"text": message, "url": url})),
            ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
            ("WhatsApp", "https://wa.me/?" + urlencode({"text": f"{message} {url}"})),
            ("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": message})),
        ],
    }
