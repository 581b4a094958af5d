"""The Embed tab of a campaign's back office: the snippets a partner pastes,
the partner sites allowed to show the embed page, and a live preview of it.
Member-only like the campaign's other pages; a change is a POST with the
session's CSRF token, audited as an edit of the campaign (and raising its
edition, so the embed page is built again with the new frame-ancestors)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import BooleanField, TextAreaField
from wtforms.validators import ValidationError

from .. import embeds
from ..form_base import Form
from ..models import Campaign, CampaignStatus
from .views import bp, member_campaign, record_action


class EmbedForm(Form):
    origins = TextAreaField(
        _l("Partner sites"),
        description=_l("One site a line, as https://example.org (with its port if it has one, "
                       "without a path). At most %(n)s.", n=embeds.MAX_ORIGINS),
        render_kw={"rows": 5, "autocomplete": "off", "spellcheck": "false"})
    anyone = BooleanField(_l("Let any site show this campaign's form"))

    parsed: tuple[str, ...] = ()

    def validate_origins(self, field) -> None:
        try:
            self.parsed = embeds.parse_origins(field.data or "")
        except embeds.OriginError as refused:
            raise ValidationError(str(refused)) from None


def snippets(campaign: Campaign) -> dict[str, str]:
    """What a partner pastes into its page: the script (a frame that grows
    with its content) and the bare frame (no script at all)."""
    site_url = current_app.config["SITE_URL"].rstrip("/")
    title = escape(campaign.title)
    return {
        "script": f'<script src="{site_url}/static/embed.js" data-campaign="{escape(campaign.slug)}" '
                  f'data-title="{title}" async></script>',
        "frame": f'<iframe src="{escape(embeds.frame_address(site_url, campaign.slug))}" title="{title}" '
                 'style="width:100%;height:720px;border:0"></iframe>',
    }


@bp.route("/c/<slug>/embed", methods=["GET", "POST"])
@member_campaign
def campaign_embed(campaign: Campaign):
    """The snippets, who may embed the campaign, and its embed page in a frame."""
    form = EmbedForm(data=None if request.method == "POST" else {
        "origins": campaign.embed_origins, "anyone": campaign.embed_anyone})
    if form.validate_on_submit():
        origins, anyone = form.parsed, bool(form.anyone.data)
        changed = [name for name, before, after in (("embed_origins", campaign.embed_origins, "\n".join(origins)),
                                                    ("embed_anyone", campaign.embed_anyone, anyone))
                   if before != after]
        if changed:
            record_action("campaign.edited", campaign, {"fields": changed})
            embeds.save(campaign, origins, anyone)
        flash(_("Saved: who may show this campaign's form on their site."))
        return redirect(url_for(".campaign_embed", slug=campaign.slug), 303)
    page = render_template("organiser/embed.html", campaign=campaign, form=form, snippets=snippets(campaign),
                           previewable=campaign.status != CampaignStatus.DRAFT)
    return page, 422 if form.errors else 200
