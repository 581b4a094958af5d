"""The Sources page of a campaign: where its confirmed signatures came from
(the links' source codes and media, the signers whose share links brought
others, and by day). It only reads; the referrals service counts."""
from __future__ import annotations

from flask import render_template

from .. import referrals
from ..models import Campaign
from .views import bp, member_campaign


@bp.get("/c/<slug>/sources")
@member_campaign
def campaign_sources(campaign: Campaign):
    """Top lists only: anyone can make up a source by editing a link, so
    the page shows the first ones and the export by source has them all."""
    return render_template("organiser/sources.html", campaign=campaign,
                           report=referrals.sources_report(campaign.id), no_source=referrals.NO_SOURCE,
                           window_days=referrals.DAYS)
