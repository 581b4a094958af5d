"""A business's page for organisers (its pledge, its pause and its public
timeline) and marking it resumed, on the organiser blueprint beside the
businesses queue: member-only, every change a POST with a CSRF token and an
event in the audit log. The business_pauses service keeps the rules."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import business_pauses, businesses, formats
from ..models import Business, Campaign, Kind
from .follow_through_forms import ResumeForm
from .views import bp, member_campaign, record_action


def _business(campaign: Campaign, business_id: int) -> Business:
    business = businesses.business_of(campaign, business_id) if campaign.kind == Kind.BOYCOTT else None
    if business is None:
        abort(404)
    return business


def _page(campaign: Campaign, business: Business, form: ResumeForm, status: int = 200):
    return render_template("organiser/business.html", campaign=campaign, business=business,
                           events=business_pauses.timeline(business), form=form,
                           can_resume=business_pauses.can_resume(business),
                           website_domain=businesses.website_domain(business.website)), status


@bp.get("/c/<slug>/businesses/<int:business_id>")
@member_campaign
def business_page(campaign: Campaign, business_id: int):
    """The pledge as it stands, its timeline as the public sees it, and the form to mark it resumed."""
    return _page(campaign, _business(campaign, business_id), ResumeForm())


@bp.post("/c/<slug>/businesses/<int:business_id>/resume")
@member_campaign
def resume_business(campaign: Campaign, business_id: int):
    """Record, publicly, that an approved business advertises again: the
    day, a note and a link to the evidence. Once per business."""
    business = _business(campaign, business_id)
    form = ResumeForm()
    if not business_pauses.can_resume(business):
        flash(_("%(name)s cannot be marked resumed: only a business on the public list, not resumed already.",
                name=business.organisation))
        return redirect(url_for(".business_page", slug=campaign.slug, business_id=business.id), 303)
    if form.validate() and business.pause_start and form.resumed_on.data < business.pause_start:
        form.resumed_on.errors = [_("The day it resumed must not be before its pause started (%(day)s)",
                                    day=formats.day(business.pause_start))]
    if form.errors:
        return _page(campaign, business, form, 422)
    record_action("business.resumed", campaign, {"business": business.id})
    business_pauses.mark_resumed(business, current_user, form.resumed_on.data, form.note.data,
                                 form.evidence_url.data)
    flash(_("%(name)s is marked resumed; the public list shows it with your note.", name=business.organisation))
    return redirect(url_for(".business_page", slug=campaign.slug, business_id=business.id), 303)
