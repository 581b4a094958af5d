"""The Consents page of a campaign: every wording of its sign form's
consents that signers agreed to, word for word, with when it was first used
and how many signatures agreed to it (see consents). Organisers in Europe
show it to prove what each supporter agreed to; it only reads."""
from __future__ import annotations

from flask import render_template

from .. import consents
from ..models import Campaign
from .views import bp, member_campaign


@bp.get("/c/<slug>/consents")
@member_campaign
def campaign_consents(campaign: Campaign):
    """The record as it stands: nothing on it can be changed, since a
    wording agreed to stays what it was."""
    return render_template("organiser/consents.html", campaign=campaign,
                           record=consents.consent_record(campaign.id))
