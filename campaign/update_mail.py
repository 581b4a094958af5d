"""An organiser's update as the email one supporter receives."""
from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from .links import absolute_url
from .markup import render_markdown
from .models import CampaignUpdate


@dataclass(frozen=True)
class RenderedUpdate:
    subject: str
    text: str
    html: str


def render_update(update_row: CampaignUpdate, given_name: str, unsubscribe_link: str,
                  body_html=None) -> RenderedUpdate:
    """Subject, plain text and HTML for one supporter. ``body_html`` may be
    passed in when many supporters get the same update."""
    campaign = update_row.campaign
    context = {
        "campaign": campaign,
        "update": update_row,
        "given_name": given_name,
        "body_html": body_html if body_html is not None else render_markdown(update_row.body),
        "campaign_url": absolute_url("public.campaign_page", slug=campaign.slug),
        "unsubscribe_url": unsubscribe_link,
    }
    return RenderedUpdate(
        # Never let a newline from an organiser's subject reach a header.
        subject=" ".join(update_row.subject.split()),
        text=render_template("email/update.txt", **context),
        html=render_template("email/update.html", **context),
    )


def list_unsubscribe_headers(link: str) -> dict:
    """RFC 2369 List-Unsubscribe with RFC 8058 one-click."""
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
