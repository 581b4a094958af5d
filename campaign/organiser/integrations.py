"""Integrations: an organiser's API keys (their own, whoever they are: an
admin sees only theirs here too), and each campaign's webhook endpoints with
their delivery log and dead letters.

A key's token and an endpoint's signing secret are shown once, in the very
response to the POST that made them: never in a URL, a flashed message (the
session cookie would carry it) or a page one can reload; organiser pages
are all ``no-store``. The services (api_keys, webhooks) leave the commit to
their caller, so each change and its audit event are one transaction here."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import api_keys, organisers, webhooks
from ..extensions import db
from ..models import ApiKey, Campaign, WebhookEndpoint
from .integration_forms import ApiKeyForm, EditWebhookForm, RedeliverForm, WebhookForm
from .views import bp, member_campaign, posted_action, record_action

# How many attempts and dead letters an endpoint's page lists.
LOG_ROWS, DEAD_LETTER_ROWS = 50, 20
# The largest id a database holds (a 64-bit integer): a larger one in an
# address is nothing, and SQLite's driver would refuse to even look it up.
_MAX_ID = 2**63 - 1


def _render(template: str, **context) -> str:
    """A page of these screens: each links to the API's documentation."""
    return render_template(f"organiser/integrations/{template}", docs_url=url_for("api.docs"),
                           petitions_url=url_for("api.petitions", _external=True), **context)


# --- API keys -----------------------------------------------------------------

def _own_key(key_id: int) -> ApiKey:
    """The logged-in organiser's key; anyone else's is 404, an admin's view too."""
    key = db.session.get(ApiKey, key_id) if key_id <= _MAX_ID else None
    if key is None or key.organiser_id != current_user.id:
        abort(404)
    return key


def _keys_page(form: ApiKeyForm, status: int = 200):
    keys = api_keys.keys_of(current_user)
    return _render("api_keys.html", keys=keys, form=form, labels=api_keys.PERMISSION_LABELS), status


@bp.route("/api-keys", methods=["GET", "POST"])
@login_required
def api_keys_page():
    """The organiser's keys, and a new one for campaigns they manage: its
    token is on the page that answers the POST, and nowhere ever after."""
    manageable = organisers.campaigns_for(current_user)
    form = ApiKeyForm(manageable)
    if not form.validate_on_submit():
        return _keys_page(form, 422 if request.method == "POST" else 200)
    chosen = [form.campaigns_by_id[campaign_id] for campaign_id in sorted(set(form.campaigns.data))]
    permissions = set(form.permissions.data)
    key, token = api_keys.create_key(current_user, form.name.data, chosen, permissions)
    record_action("api_key.created", detail={"api_key": key.id, "campaigns": [c.id for c in chosen],
                                             "permissions": sorted(permissions)})
    db.session.commit()
    return _render("api_key_created.html", key=key, token=token, labels=api_keys.PERMISSION_LABELS)


@bp.route("/api-keys/<int:key_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_api_key(key_id: int):
    """A page that says what revoking does, and its button: a request with
    the key gets 401 from then on. Revoking twice is once."""
    key = _own_key(key_id)
    if request.method == "GET":
        if key.revoked_at is not None:
            return redirect(url_for(".api_keys_page"), 303)
        return _render("api_key_revoke.html", key=key)
    posted_action({"revoke"})
    if key.revoked_at is None:
        api_keys.revoke_key(key)
        record_action("api_key.revoked", detail={"api_key": key.id})
        db.session.commit()
    flash(_("The key “%(name)s” is revoked: requests with it are refused from now on.", name=key.name))
    return redirect(url_for(".api_keys_page"), 303)


# --- Webhooks -------------------------------------------------------------------

def _endpoint_of(campaign: Campaign, endpoint_id: int) -> WebhookEndpoint:
    """The campaign's endpoint; one of another campaign is 404 here."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) if endpoint_id <= _MAX_ID else None
    if endpoint is None or endpoint.campaign_id != campaign.id:
        abort(404)
    return endpoint


def _secret_page(campaign: Campaign, endpoint: WebhookEndpoint, secret: str, created: bool):
    return _render("webhook_secret.html", campaign=campaign, endpoint=endpoint, secret=secret, created=created,
                   replay_minutes=webhooks.REPLAY_WINDOW_SECONDS // 60)


@bp.route("/c/<slug>/webhooks", methods=["GET", "POST"])
@member_campaign
def campaign_webhooks(campaign: Campaign):
    """The campaign's endpoints with how their latest delivery went, and a
    new one: its signing secret is shown once, on the page that answers."""
    form = WebhookForm()
    if form.validate_on_submit():
        endpoint, secret = webhooks.create_endpoint(campaign, form.url.data, set(form.events.data),
                                                    current_user, description=form.description.data or "")
        record_action("webhook.created", campaign, {"endpoint": endpoint.id, "events": sorted(form.events.data)})
        db.session.commit()
        return _secret_page(campaign, endpoint, secret, created=True)
    rows = []
    for endpoint in webhooks.endpoints_of(campaign):
        latest = webhooks.delivery_log(endpoint, limit=1)
        rows.append({"endpoint": endpoint, "events": webhooks.events_of(endpoint),
                     "latest": latest[0] if latest else None,
                     "dead": len(webhooks.dead_letters(endpoint, limit=DEAD_LETTER_ROWS))})
    page = _render("webhooks.html", campaign=campaign, rows=rows, form=form, labels=webhooks.EVENT_LABELS,
                   most_dead=DEAD_LETTER_ROWS)
    return page, 422 if form.errors else 200


@bp.route("/c/<slug>/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@member_campaign
def webhook_endpoint(campaign: Campaign, endpoint_id: int):
    """One endpoint: change it, test it, its delivery log, and its dead
    letters (the last answer of each, as the receiver sent it, escaped)."""
    endpoint = _endpoint_of(campaign, endpoint_id)
    form = EditWebhookForm(data=None if request.method == "POST" else {
        "url": endpoint.url, "events": webhooks.events_of(endpoint), "description": endpoint.description,
        "active": endpoint.active})
    if form.validate_on_submit():
        after = {"url": form.url.data, "events": set(form.events.data), "description": form.description.data or "",
                 "active": bool(form.active.data)}
        before = {"url": endpoint.url, "events": set(webhooks.events_of(endpoint)),
                  "description": endpoint.description, "active": endpoint.active}
        changed = [name for name in after if after[name] != before[name]]
        if changed:
            webhooks.update_endpoint(endpoint, **after)
            record_action("webhook.changed", campaign, {"endpoint": endpoint.id, "fields": changed})
            db.session.commit()
        flash(_("Saved: the endpoint's address, events and description."))
        return redirect(url_for(".webhook_endpoint", slug=campaign.slug, endpoint_id=endpoint.id), 303)
    page = _render(
        "webhook.html", campaign=campaign, endpoint=endpoint, form=form,
        labels=webhooks.EVENT_LABELS, log=webhooks.delivery_log(endpoint, limit=LOG_ROWS),
        dead=[(message, last, webhooks.event_of(message))
              for message, last in webhooks.dead_letters(endpoint, limit=DEAD_LETTER_ROWS)],
        log_rows=LOG_ROWS, retry_hours=webhooks.WEBHOOK_RETRY_HOURS)
    return page, 422 if form.errors else 200


@bp.post("/c/<slug>/webhooks/<int:endpoint_id>/active")
@member_campaign
def webhook_active(campaign: Campaign, endpoint_id: int):
    """Pause an endpoint (no new events are queued for it) or resume it."""
    endpoint = _endpoint_of(campaign, endpoint_id)
    active = posted_action({"on", "off"}) == "on"
    if endpoint.active != active:
        webhooks.update_endpoint(endpoint, url=endpoint.url, events=set(webhooks.events_of(endpoint)),
                                 active=active, description=endpoint.description)
        record_action("webhook.changed", campaign, {"endpoint": endpoint.id, "fields": ["active"]})
        db.session.commit()
    flash(_("The endpoint is active: new events are sent to it.") if active
          else _("The endpoint is deactivated: no new events are sent to it."))
    return redirect(url_for(".webhook_endpoint", slug=campaign.slug, endpoint_id=endpoint.id), 303)


@bp.post("/c/<slug>/webhooks/<int:endpoint_id>/test")
@member_campaign
def webhook_test(campaign: Campaign, endpoint_id: int):
    """A "ping" event to this endpoint now, inactive or not: to try it out."""
    endpoint = _endpoint_of(campaign, endpoint_id)
    posted_action({"test"})
    webhooks.send_test_event(endpoint)
    record_action("webhook.test_sent", campaign, {"endpoint": endpoint.id})
    db.session.commit()
    flash(_("A test event is on its way: it shows in the delivery log below once it is sent."))
    return redirect(url_for(".webhook_endpoint", slug=campaign.slug, endpoint_id=endpoint.id), 303)


@bp.post("/c/<slug>/webhooks/<int:endpoint_id>/secret")
@member_campaign
def webhook_secret(campaign: Campaign, endpoint_id: int):
    """A new signing secret, shown once; the old one stops signing at once."""
    endpoint = _endpoint_of(campaign, endpoint_id)
    posted_action({"rotate"})
    secret = webhooks.new_secret(endpoint)
    record_action("webhook.secret_rotated", campaign, {"endpoint": endpoint.id})
    db.session.commit()
    return _secret_page(campaign, endpoint, secret, created=False)


@bp.post("/c/<slug>/webhooks/<int:endpoint_id>/redeliver")
@member_campaign
def webhook_redeliver(campaign: Campaign, endpoint_id: int):
    """One dead letter of this endpoint back in the queue, retried afresh."""
    endpoint = _endpoint_of(campaign, endpoint_id)
    form = RedeliverForm()
    if not form.validate() or form.message_id() is None:
        abort(400)
    if webhooks.redeliver(endpoint, form.message_id()):
        record_action("webhook.redelivered", campaign, {"endpoint": endpoint.id, "message": form.message_id()})
        db.session.commit()
        flash(_("The event is queued to be delivered again: it shows in the delivery log once it is tried."))
    else:
        flash(_("That event is no longer waiting to be redelivered."))
    return redirect(url_for(".webhook_endpoint", slug=campaign.slug, endpoint_id=endpoint.id), 303)


@bp.route("/c/<slug>/webhooks/<int:endpoint_id>/delete", methods=["GET", "POST"])
@member_campaign
def delete_webhook(campaign: Campaign, endpoint_id: int):
    """A page that asks first; its button deletes the endpoint with its
    delivery log and the events still waiting for it."""
    endpoint = _endpoint_of(campaign, endpoint_id)
    if request.method == "GET":
        return _render("webhook_delete.html", campaign=campaign, endpoint=endpoint)
    posted_action({"delete"})
    record_action("webhook.deleted", campaign, {"endpoint": endpoint.id})
    webhooks.delete_endpoint(endpoint)
    db.session.commit()
    flash(_("The endpoint is deleted: no more events are sent to it."))
    return redirect(url_for(".campaign_webhooks", slug=campaign.slug), 303)
