"""The scorecard screen: each of a campaign's demands with its status and
history, and the form that records a change (member-only, a POST with a
CSRF token, an event in the audit log). A change may be told to supporters
in the same step: it becomes a draft update, and the organiser sends it
from the updates' own confirmation page, as any other. The scorecard
service keeps the rules, and says how rows follow the demands text."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from .. import broadcasts, formats, scorecard
from ..links import absolute_url
from ..models import Campaign, DemandStatus, utcnow
from .follow_through_forms import DEMAND_STATUS_LABELS, DemandStatusForm
from .views import bp, member_campaign, record_action

# How much of a long demand the list of choices shows.
_CHOICE_LENGTH = 120


def _shortened(text: str) -> str:
    return text if len(text) <= _CHOICE_LENGTH else text[:_CHOICE_LENGTH - 1].rstrip() + "…"


def announcement(campaign: Campaign, row: scorecard.Row) -> tuple[str, str]:
    """The subject and Markdown body of an update telling supporters of a
    demand's latest entry: the organiser checks it before it is sent."""
    entry = row.entries[-1]
    label = str(DEMAND_STATUS_LABELS[DemandStatus(entry.status)])
    subject = _("Our demand: %(status)s", status=label)
    lines = [f"**{row.text}**", "",
             _("%(status)s, on %(day)s.", status=label, day=formats.day(entry.happened_on))]
    if entry.note:
        lines += ["", entry.note]
    if entry.source_url:
        lines += ["", _("Source: %(link)s", link=f"<{entry.source_url}>")]
    scorecard_url = absolute_url("public.campaign_page", slug=campaign.slug) + "#demands"
    lines += ["", _("Every demand and where it stands: %(link)s", link=f"<{scorecard_url}>")]
    return subject[:200], "\n".join(lines)


@bp.route("/c/<slug>/scorecard", methods=["GET", "POST"])
@member_campaign
def campaign_scorecard(campaign: Campaign):
    """Every demand with its status and history; a form to record a change."""
    rows = scorecard.scorecard_of(campaign)
    form = DemandStatusForm()
    form.demand.choices = [SelectChoice("", _("Choose a demand"))] + [
        SelectChoice(row.key, f"{n}. {_shortened(row.text)}") for n, row in enumerate(rows, 1)]
    if request.method == "GET":
        form.happened_on.data = utcnow().date()
    elif form.validate():
        line = next(n for n, row in enumerate(rows, 1) if row.key == form.demand.data)
        record_action("demand.status", campaign, {"line": line, "status": form.status.data,
                                                   "announce": form.announce.data})
        try:
            row = scorecard.record_status(campaign, form.demand.data, DemandStatus(form.status.data),
                                          form.happened_on.data, form.note.data or "", form.source_url.data or None,
                                          current_user)
        except scorecard.UnknownDemand:
            form.demand.errors = [_("That demand has just been edited: choose it again from the list")]
        else:
            if form.announce.data:
                subject, body = announcement(campaign, row)
                update = broadcasts.create_update(campaign, current_user, subject, body)
                record_action("update.created", campaign, {"update_id": update.id, "demand_line": line}, now=True)
                flash(_("The status is recorded. Here is the update for supporters: send it, or leave it as a draft."))
                return redirect(url_for(".confirm_update", slug=campaign.slug, update_id=update.id), 303)
            flash(_("The status is recorded and shows on the public page."))
            return redirect(url_for(".campaign_scorecard", slug=campaign.slug), 303)
    return render_template("organiser/scorecard.html", campaign=campaign, rows=rows, form=form,
                           former=scorecard.former_demands(campaign),
                           labels=DEMAND_STATUS_LABELS), 422 if form.errors else 200
