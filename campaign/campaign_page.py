"""The campaign page as the public sees it: its pledge, count, signers and
forms. The public blueprint serves it; organisers preview a draft with it."""
from __future__ import annotations

from flask import render_template

from . import businesses, counts, questions, signing
from .models import Campaign, Kind
from .public_forms import BusinessForm, sign_form_class
from .windows import describe_window


def render_campaign(campaign: Campaign, sign_form=None, business_form=None, status=200, preview=False):
    """The campaign page; ``preview`` shows a draft to its organisers."""
    count = counts.signature_count(campaign.id)
    context = {
        "campaign": campaign,
        "count": count,
        "goal": counts.displayed_goal(count, campaign.goal, campaign.goal_fixed),
        "signers": signing.recent_public_signers(campaign.id),
        "window": describe_window(campaign),
        "form": sign_form or sign_form_class(questions.visible_questions(campaign.id))(
            postcode_required=campaign.postcode_required),
        "business_form": None,
        "businesses": [],
        "preview": preview,
    }
    if campaign.kind == Kind.BOYCOTT:
        context["business_form"] = business_form or BusinessForm(prefix="business")
        context["businesses"] = businesses.approved_businesses(campaign.id)
    return render_template("public/campaign.html", **context), status
