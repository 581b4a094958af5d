"""Two-factor authentication on the organiser blueprint: an organiser turns
it on (QR code, then a code), makes new recovery codes or turns it off
(password and a code); an admin requires it of everyone or turns it off for
someone who has lost their phone and their codes. While the site requires it,
an organiser without it is sent to turn it on before anything else. The
two_factor service keeps the rules; logging in with a code is in views."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import organisers, signins, two_factor
from ..extensions import db, limiter
from ..models import Organiser
from .forms import DisableTwoFactorForm, EnableTwoFactorForm, RecoveryCodesForm
from .views import _SESSION_ID, admin_only, bp, posted_action, record_action

# What an organiser who must turn two-factor on can still reach.
_WHILE_ENROLLING = {
    "organiser.two_factor", "organiser.enable_two_factor", "organiser.logout", "organiser.logout_everywhere",
    "organiser.login", "organiser.login_code", "organiser.forgot_password", "organiser.reset_password",
    "organiser.accept_invitation",
}


@bp.before_request
def enrol_first():
    """While the site requires two-factor, an organiser without it goes to
    turn it on before anything else."""
    if request.endpoint in _WHILE_ENROLLING or not current_user.is_authenticated:
        return None
    if two_factor.must_enrol(current_user):
        flash(_("This site requires two-factor authentication: turn it on to go on."))
        return redirect(url_for(".two_factor"), 303)
    return None


def _sensitive_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _page(enable_form=None, codes_form=None, off_form=None, status: int = 200):
    organiser = current_user
    context = {"required": two_factor.required(), "enabled": organiser.has_two_factor}
    if organiser.has_two_factor:
        context.update(codes_left=two_factor.recovery_codes_left(organiser),
                       codes_form=codes_form or RecoveryCodesForm(prefix="codes", formdata=None),
                       off_form=off_form or DisableTwoFactorForm(prefix="off", formdata=None))
    else:
        secret = two_factor.pending_secret(organiser)
        context.update(secret=two_factor.grouped(secret),
                       qr=two_factor.qr_svg(two_factor.provisioning_uri(organiser, secret),
                                            _("QR code to scan with your authenticator app")),
                       enable_form=enable_form or EnableTwoFactorForm(formdata=None))
    return render_template("organiser/two_factor.html", **context), status


@bp.get("/two-factor", endpoint="two_factor")
@login_required
def two_factor_page():
    """On: how many recovery codes are left, new ones, off. Off: the QR code
    and key to scan, and the code that turns it on."""
    return _page()


@bp.post("/two-factor/enable")
@login_required
@limiter.limit(_sensitive_limit)
def enable_two_factor():
    """A right code turns it on: every other session ends, and the recovery
    codes are shown, this once."""
    form = EnableTwoFactorForm()
    if current_user.has_two_factor:
        return redirect(url_for(".two_factor"), 303)
    if form.validate():
        try:
            record_action("two_factor.enabled")  # written by enable's commit
            codes = two_factor.enable(current_user, form.code.data)
        except two_factor.CodeRefused:
            db.session.rollback()
            form.code.errors.append(_("That code is not right. Enter the code your app shows now"))
        else:
            signins.end_other_sessions(current_user, session.get(_SESSION_ID))
            return render_template("organiser/recovery_codes.html", codes=codes, first_time=True)
    return _page(enable_form=form, status=422)


@bp.post("/two-factor/recovery-codes")
@login_required
@limiter.limit(_sensitive_limit)
def new_recovery_codes():
    """Ten new recovery codes (the old ones stop working), for a current code."""
    form = RecoveryCodesForm(prefix="codes")
    if not current_user.has_two_factor:
        return redirect(url_for(".two_factor"), 303)
    if form.validate():
        try:
            record_action("two_factor.recovery_codes")
            codes = two_factor.new_recovery_codes(current_user, form.code.data)
        except two_factor.CodeRefused:
            db.session.rollback()
            form.code.errors.append(_("That code is not right, or it has been used already"))
        else:
            return render_template("organiser/recovery_codes.html", codes=codes, first_time=False)
    return _page(codes_form=form, status=422)


@bp.post("/two-factor/disable")
@login_required
@limiter.limit(_sensitive_limit)
def disable_two_factor():
    """Off, with the password and a current code; not while the site requires it."""
    form = DisableTwoFactorForm(prefix="off")
    if not current_user.has_two_factor:
        return redirect(url_for(".two_factor"), 303)
    if two_factor.required():
        form.password.errors = [_("This site requires two-factor authentication: it cannot be turned off")]
    elif form.validate():
        if not organisers.password_is_right(current_user, form.password.data):
            form.password.errors.append(_("That is not your password"))
        else:
            try:
                two_factor.confirm_code(current_user, form.code.data)
            except two_factor.CodeRefused:
                db.session.rollback()
                form.code.errors.append(_("That code is not right, or it has been used already"))
            else:
                record_action("two_factor.disabled")
                two_factor.disable(current_user)
                flash(_("Two-factor authentication is off. Your password alone now logs you in."))
                return redirect(url_for(".two_factor"), 303)
    return _page(off_form=form, status=422)


@bp.post("/two-factor/required")
@admin_only
def require_two_factor():
    """Require two-factor of every organiser, or stop requiring it."""
    on = posted_action({"on", "off"}) == "on"
    record_action("two_factor.required" if on else "two_factor.not_required")
    two_factor.set_required(on)
    flash(_("Every organiser must now use two-factor authentication; those without it are asked to turn it on "
            "at their next request.") if on else _("Two-factor authentication is now each organiser's choice."))
    return redirect(url_for(".manage_organisers"), 303)


@bp.post("/organisers/<int:organiser_id>/two-factor")
@admin_only
def reset_two_factor(organiser_id: int):
    """For an organiser who lost both their phone and their recovery codes:
    two-factor off and every session of theirs ended; they log in with
    their password and turn it on again."""
    posted_action({"reset"})
    organiser = db.session.get(Organiser, organiser_id)
    if organiser is None or organiser.id == current_user.id or not organiser.has_two_factor:
        abort(404)
    record_action("two_factor.reset", detail={"organiser": organiser.id})
    two_factor.disable(organiser)
    signins.end_all_sessions(organiser)
    flash(_("Two-factor authentication is off for %(email)s, and they are logged out everywhere.",
            email=organiser.email))
    return redirect(url_for(".manage_organisers"), 303)
