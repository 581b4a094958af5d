"""The Activity page: the audit log, on the organiser blueprint. An admin
sees everyone's events and filters them by organiser, campaign, action and
days; anyone else sees their own. The audit service keeps the log."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import audit, organisers
from ..formats import ngettext
from ..models import AuditEvent
from .forms import ActivityForm
from .views import bp

PAGE_SIZE = 100
_FILTERS = ("organiser", "campaign", "action", "since", "until")
# An id the database can hold: anything else in ?before= is ignored.
_MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Row:
    """One event as the table shows it."""
    when: dt.datetime
    who: str
    ip_group: str
    action: str
    campaign_title: str
    campaign_slug: str | None  # set when the viewer may open the campaign
    details: str


def _label(event: AuditEvent) -> str:
    detail = event.detail or {}
    if event.action == "export.counts":
        fmt = str(detail.get("format", "")).upper()
        by = {
            "day": _("Exported the counts by day (%(format)s)", format=fmt),
            "country": _("Exported the counts by country (%(format)s)", format=fmt),
            "total": _("Exported the total count (%(format)s)", format=fmt),
        }
        return by.get(detail.get("by"), str(audit.ACTIONS["export.counts"]))
    if event.action == "export.signers":
        return _("Exported the signer list (%(format)s)", format=str(detail.get("format", "csv")).upper())
    label = audit.ACTIONS.get(event.action)
    return str(label) if label is not None else event.action


def _status(value) -> str:
    return {"draft": _("draft"), "live": _("live"), "closed": _("closed")}.get(value, str(value))


def _searched_by(names) -> str:
    known = {"email_domain": _("email domain"), "name": _("name"), "since": _("signed from"),
             "until": _("signed before"), "ip": _("IP address"), "ip_hash": _("IP group"),
             "email": _("email address")}
    return ", ".join(known.get(name, str(name)) for name in names)


def _details(event: AuditEvent, emails: dict[int, str]) -> str:
    """What ``detail`` says, in words; ids of organisers as their address."""
    detail = dict(event.detail or {})
    detail.pop("by", None)
    detail.pop("format", None)
    parts = []
    if "fields" in detail:
        fields = detail.pop("fields")
        parts.append(_("Changed: %(fields)s", fields=", ".join(fields)) if fields else _("Nothing changed"))
    if "status" in detail:
        status, was = detail.pop("status"), detail.pop("from", None)
        parts.append(_("Now %(status)s, was %(was)s", status=_status(status), was=_status(was)) if was
                     else _("Now %(status)s", status=_status(status)))
    for key in ("organiser", "member"):
        if key in detail:
            who = detail.pop(key)
            parts.append(emails.get(who, f"#{who}"))
    if detail.pop("admin", False):
        parts.append(_("administrator"))
    if "signatures" in detail:
        n = detail.pop("signatures")
        parts.append(ngettext("%(num)s signature", "%(num)s signatures", n))
    if "reason_given" in detail:
        parts.append(_("reason given") if detail.pop("reason_given") else _("no reason given"))
    if "searched_by" in detail:
        parts.append(_("searched by %(criteria)s", criteria=_searched_by(detail.pop("searched_by"))))
    if "stopped" in detail:
        n = detail.pop("stopped")
        parts.append(ngettext("%(num)s email stopped", "%(num)s emails stopped", n))
    if "invalidation" in detail:
        parts.append(_("invalidation #%(id)s", id=detail.pop("invalidation")))
    if "business" in detail:
        parts.append(_("business #%(id)s", id=detail.pop("business")))
    if "update_id" in detail:
        parts.append(_("update #%(id)s", id=detail.pop("update_id")))
    if "signature" in detail:
        parts.append(_("signature #%(id)s", id=detail.pop("signature")))
    if "question" in detail:
        parts.append(_("question #%(id)s", id=detail.pop("question")))
    if "direction" in detail:
        parts.append(_("up") if detail.pop("direction") == "up" else _("down"))
    if "second_factor" in detail:
        parts.append(_("with a recovery code") if detail.pop("second_factor") == "recovery"
                     else _("with a code from the app"))
    if detail.pop("step", None) == "code":
        parts.append(_("wrong two-factor code"))
    if detail.pop("via", None) == "command line":
        parts.append(_("from the command line"))
    parts.extend(f"{key}: {value}" for key, value in detail.items())
    return "; ".join(parts)


def _row(event: AuditEvent, emails: dict[int, str], visible: set[int]) -> Row:
    campaign = event.campaign
    return Row(
        when=event.created_at,
        who=event.organiser.email if event.organiser else "—",
        ip_group=(event.ip_hash or "")[:12],
        action=_label(event),
        campaign_title=campaign.title if campaign else "—",
        campaign_slug=campaign.slug if campaign and campaign.id in visible else None,
        details=_details(event, emails),
    )


def _before() -> int | None:
    before = request.args.get("before", type=int)
    return before if before is not None and 0 < before <= _MAX_ID else None


@bp.get("/audit")
@login_required
def activity():
    """Newest first, a page at a time ("Older" pages on by id)."""
    visible = organisers.campaigns_for(current_user)
    form, filters, kept, status = None, {}, {}, 200
    if current_user.is_admin:
        people = organisers.all_organisers()
        emails = {person.id: person.email for person in people}
        form = ActivityForm(request.args)
        form.organiser.choices = [("", _("Everyone"))] + [(str(p.id), p.email) for p in people]
        form.campaign.choices = [("", _("Every campaign"))] + [(str(c.id), c.title) for c in visible]
        form.action.choices = [("", _("Every action"))] + [(name, str(label)) for name, label in audit.ACTIONS.items()]
        if form.validate():
            filters = {"organiser_id": form.organiser.data, "campaign_id": form.campaign.data,
                       "action": form.action.data or None, "since": form.since.data, "until": form.until.data}
            kept = {name: request.args[name] for name in _FILTERS if request.args.get(name)}
        else:
            status = 422
    else:
        emails = {current_user.id: current_user.email}
    page = audit.EventPage([], None)
    if status == 200:
        page = audit.events(current_user, **filters, limit=PAGE_SIZE, before_id=_before())
    visible_ids = {c.id for c in visible}
    return render_template(
        "organiser/activity.html", form=form,
        rows=[_row(event, emails, visible_ids) for event in page.events],
        older_url=url_for(".activity", **kept, before=page.older) if page.older else None,
        newest_url=url_for(".activity", **kept) if _before() else None,
    ), status
