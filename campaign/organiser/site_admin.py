"""The Site settings page, for admins: the site's name, logo text, icon,
who runs it, its contact address and privacy notice (see site_settings)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import site_settings
from ..extensions import db
from .forms import SiteForm
from .views import admin_only, bp, record_action

_FIELDS = ("site_name", "logo_text", "favicon_text", "accent_colour", "organiser_name", "contact_email",
           "privacy_url", "privacy_notice")


@bp.route("/site", methods=["GET", "POST"])
@admin_only
def site_settings_page():
    form = SiteForm(data={name: site_settings.value(name) for name in _FIELDS})
    if form.validate_on_submit():
        changed = [name for name in _FIELDS if (form[name].data or "") != site_settings.value(name)]
        for name in changed:
            site_settings.change(name, form[name].data or "")
        record_action("site.settings", detail={"fields": changed})
        db.session.commit()
        flash(_("The site settings are saved. Every page shows them within a few seconds."))
        return redirect(url_for(".site_settings_page"), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/site.html", form=form), status
