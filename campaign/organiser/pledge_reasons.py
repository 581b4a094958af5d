"""The Reasons page of a pledge campaign that asks signers why: the reasons
waiting for review (approve or reject each) and those on the public page
(take one down). The reasons service keeps the rules."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import reasons
from ..models import Campaign, Kind
from .views import bp, member_campaign, posted_action, record_action

_DECISIONS = {"approve": "reason.approved", "reject": "reason.rejected", "take_down": "reason.taken_down"}


def _asks_reasons(campaign: Campaign) -> None:
    if campaign.kind != Kind.PLEDGE or not campaign.asks_reason:
        abort(404)


@bp.get("/c/<slug>/reasons")
@member_campaign
def campaign_reasons(campaign: Campaign):
    """Also for a campaign that asks no reasons: it says how to ask them."""
    asks = campaign.kind == Kind.PLEDGE and campaign.asks_reason
    return render_template("organiser/reasons.html", campaign=campaign, asks=asks,
                           waiting=reasons.waiting(campaign) if asks else [],
                           shown=reasons.public_reasons(campaign.id) if asks else [])


@bp.post("/c/<slug>/reasons/<int:signature_id>")
@member_campaign
def decide_reason(campaign: Campaign, signature_id: int):
    action = posted_action(set(_DECISIONS))
    _asks_reasons(campaign)
    if action == "take_down":
        done = reasons.take_down(campaign, signature_id)
    else:
        done = reasons.decide(campaign, signature_id, approve=action == "approve")
    if not done:
        abort(404)
    record_action(_DECISIONS[action], campaign, {"signature": signature_id}, now=True)
    flash({"approve": _("The reason is on the campaign page."), "reject": _("The reason will not be shown."),
           "take_down": _("The reason is no longer on the campaign page.")}[action])
    return redirect(url_for(".campaign_reasons", slug=campaign.slug), 303)
