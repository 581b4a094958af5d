"""The organisers' back office: login, campaigns, dashboard, exports, moderation."""
from __future__ import annotations

import time
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import (
    audit,
    broadcasts,
    businesses,
    campaigns,
    charts,
    check_ins,
    confirm_reminders,
    countries,
    counts,
    exports,
    formats,
    moderation,
    organisers,
    questions,
    retention,
    signins,
    translations,
    two_factor,
)
from ..campaign_page import render_campaign
from ..extensions import db, limiter, login_manager
from ..models import (
    BusinessStatus,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Invalidation,
    Kind,
    Organiser,
    SignatureStatus,
    UpdateStatus,
    utcnow,
)
from ..redirects import safe_next
from ..update_mail import render_update, versions
from .forms import (
    ActionForm,
    CampaignForm,
    ForgotPasswordForm,
    InvalidateForm,
    InviteForm,
    LoginCodeForm,
    LoginForm,
    MemberForm,
    NewPasswordForm,
    OrganiserForm,
    SearchForm,
    language_name,
    update_form_class,
)

bp = Blueprint("organiser", __name__, url_prefix="/organiser")


@bp.context_processor
def organiser_in_templates():
    return {"current_user": current_user}


@bp.after_request
def never_cache(response):
    """Organiser pages hold personal data: no cache may keep them."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


@login_manager.user_loader
def load_organiser(organiser_id: str) -> Organiser | None:
    """The organiser of this request's session, only while the session is
    live on the server (see signins) and the organiser active."""
    if not organiser_id.isdigit():
        return None
    return signins.organiser_of_session(int(organiser_id), session.get(_SESSION_ID))


# The session cookie's key for the server-side session id.
_SESSION_ID = "organiser_session"


def _login_account_key() -> str:
    """Per account and client address: a stranger's guesses never use up yours."""
    return f"login:{request.remote_addr}:" + organisers.normalise_login(request.form.get("email", ""))[:320]


def member_campaign(view):
    """Load /c/<slug>/ for a logged-in member (or admin); anyone else gets 404,
    so a draft's existence is not revealed."""
    @wraps(view)
    @login_required
    def wrapper(slug, **kwargs):
        campaign = campaigns.campaign_by_slug(slug)
        if campaign is None or not organisers.can_manage(current_user, campaign):
            abort(404)
        return view(campaign, **kwargs)
    return wrapper


def posted_action(allowed) -> str:
    """The button pressed on one of our forms, if it is one of ``allowed``; else 400."""
    form = ActionForm()
    if not form.validate() or form.action.data not in allowed:
        abort(400)
    return form.action.data


def admin_only(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)
    return wrapper


def record_action(action: str, campaign: Campaign | None = None, detail: dict | None = None, *,
                  now: bool = False) -> None:
    """Put what the logged-in organiser does in the audit log, from this
    request's address: written by the commit of the service call that
    follows (audit.record), or, with ``now``, at once after one that has
    committed (audit.record_now)."""
    write = audit.record_now if now else audit.record
    write(action, current_user, campaign, detail, ip=request.remote_addr)


# --- Accounts ---------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"], key_func=_login_account_key)
def login():
    """One message for a wrong password and an unknown address alike. After
    repeated failures an address asks browsers it has never logged in from
    to wait (see signins); logging in starts a new session cookie. With
    two-factor on, the right password leads to the code step instead."""
    form = LoginForm()
    error, status = None, 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        login = organisers.normalise_login(form.email.data)
        known_device = signins.is_known_device(login, request.cookies.get(signins.DEVICE_COOKIE))
        wait = signins.seconds_to_wait(login, known_device)
        organiser = None if wait else organisers.authenticate(form.email.data, form.password.data)
        next_url = safe_next(request.args.get("next"), url_for(".index"))
        if organiser is not None and organiser.has_two_factor:
            _new_session_cookie()
            session[_PENDING_LOGIN] = {"id": organiser.id, "at": int(time.time()), "next": next_url, "tries": 0}
            return redirect(url_for(".login_code"), 303)
        if organiser is not None:
            return _logged_in(organiser, login, next_url)
        if wait:
            error, status = _("Too many failed attempts for this address. Try again in %(n)s seconds.", n=wait), 429
        else:
            audit.record("login.failed", organisers.find_organiser(form.email.data), ip=request.remote_addr)
            signins.record_failure(login)
            error = _("The email address or password is not right.")
    return render_template("organiser/login.html", form=form, error=error), status


# The session cookie's key for a login waiting for its second factor: who,
# since when, where to go next, and how many wrong codes so far.
_PENDING_LOGIN = "two_factor_login"


def _new_session_cookie() -> None:
    """Forget everything of the session so far, and with it the CSRF token
    (Flask-WTF keeps the one it made for this request in g: forget that too)."""
    session.clear()
    g.pop("csrf_token", None)


def _logged_in(organiser: Organiser, login: str, next_url: str, second_factor: str | None = None):
    """Starts the organiser's session (a new cookie) and remembers this
    browser as one that logged in to ``login``."""
    audit.record("login", organiser, None, {"second_factor": second_factor} if second_factor else None,
                 ip=request.remote_addr)  # written by record_success's commit
    signins.record_success(login)
    _new_session_cookie()
    session[_SESSION_ID] = signins.start_session(organiser)
    login_user(organiser)
    response = redirect(next_url, 303)
    # Path "/": the organiser pages are at /organiser and at /<language>/organiser.
    response.set_cookie(signins.DEVICE_COOKIE, signins.device_cookie_for(login),
                        max_age=current_app.config["LOGIN_DEVICE_DAYS"] * 86400, path="/",
                        secure=request.is_secure, httponly=True, samesite="Strict")
    return response


def _pending_login() -> tuple[dict, Organiser] | None:
    """The login waiting for its code, while fresh, and its organiser."""
    pending = session.get(_PENDING_LOGIN)
    if not isinstance(pending, dict) or not isinstance(pending.get("id"), int):
        return None
    if time.time() - pending.get("at", 0) > current_app.config["TWO_FACTOR_LOGIN_MINUTES"] * 60:
        session.pop(_PENDING_LOGIN)
        return None
    organiser = db.session.get(Organiser, pending["id"])
    if organiser is None or not organiser.active or not organiser.has_two_factor:
        session.pop(_PENDING_LOGIN)
        return None
    return pending, organiser


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login_code():
    """The second step: a code from the app or a recovery code, within
    TWO_FACTOR_LOGIN_MINUTES of the password. Wrong codes count as failed
    logins of the address (the same growing delay), and after
    TWO_FACTOR_LOGIN_TRIES of them the password must be entered again."""
    waiting = _pending_login()
    if waiting is None:
        flash(_("Enter your email address and password first. The code must follow within %(n)s minutes.",
                n=current_app.config["TWO_FACTOR_LOGIN_MINUTES"]))
        return redirect(url_for(".login"), 303)
    pending, organiser = waiting
    form = LoginCodeForm()
    error, status = None, 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        login = organisers.normalise_login(organiser.email)
        known_device = signins.is_known_device(login, request.cookies.get(signins.DEVICE_COOKIE))
        wait = signins.seconds_to_wait(login, known_device)
        if wait:
            error, status = _("Too many failed attempts for this address. Try again in %(n)s seconds.", n=wait), 429
        else:
            try:
                second_factor = two_factor.check(organiser, form.code.data)
            except two_factor.CodeRefused:
                audit.record("login.failed", organiser, None, {"step": "code"}, ip=request.remote_addr)
                signins.record_failure(login)
                pending["tries"] = pending.get("tries", 0) + 1
                if pending["tries"] >= current_app.config["TWO_FACTOR_LOGIN_TRIES"]:
                    session.pop(_PENDING_LOGIN)
                    flash(_("Too many wrong codes. Enter your email address and password again."))
                    return redirect(url_for(".login"), 303)
                session[_PENDING_LOGIN] = pending
                form.code.errors.append(_("That code is not right, or it has been used already"))
            else:
                response = _logged_in(organiser, login, pending.get("next") or url_for(".index"), second_factor)
                if second_factor == "recovery":  # flashed into the new session
                    flash(_("You logged in with a recovery code; it cannot be used again. "
                            "Recovery codes left: %(n)s.", n=two_factor.recovery_codes_left(organiser)))
                return response
    return render_template("organiser/login_code.html", form=form, error=error), status


def _log_out() -> None:
    signins.end_session(session.get(_SESSION_ID))
    logout_user()
    _new_session_cookie()


@bp.post("/logout")
@login_required
def logout():
    """Ends this session on the server: its cookie is worth nothing after."""
    record_action("logout")
    _log_out()
    flash(_("You have logged out."))
    return redirect(url_for(".login"), 303)


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    """Ends every session of this organiser, on every device."""
    record_action("logout.everywhere")
    signins.end_all_sessions(current_user)
    _log_out()
    flash(_("You have logged out on every device."))
    return redirect(url_for(".login"), 303)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def forgot_password():
    """Asks for an address and emails it a link to set a new password; the
    same answer whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        organisers.request_password_reset(form.email.data)
        flash(_("If an organiser account has that address, we have emailed it a link to set a new password. "
                "The link works once, for %(n)s minutes.", n=current_app.config["PASSWORD_RESET_MINUTES"]))
        return redirect(url_for(".login"), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def reset_password(token: str):
    """Sets a new password from the emailed link (once, within the hour), and
    ends every session of the account."""
    organiser = organisers.organiser_for_reset(token)
    if organiser is None:
        return render_template("organiser/link_expired.html", what="reset"), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            audit.record("password.reset", organiser, ip=request.remote_addr)  # written by set_password's commit
            organisers.set_password(organiser, form.password.data)
        except organisers.AccountError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            signins.end_all_sessions(organiser)
            signins.record_success(organiser.email)
            _log_out()
            flash(_("Your new password is set, and every earlier session has ended. Log in with it."))
            return redirect(url_for(".login"), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/new_password.html", form=form, email=organiser.email,
                           heading=_("Set a new password")), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def accept_invitation(token: str):
    """The invitee accepts (once, within INVITATION_DAYS): with no account
    yet, they choose a password here; then they log in."""
    invitation = organisers.invitation_for(token)
    if invitation is None:
        return render_template("organiser/link_expired.html", what="invitation"), 410
    has_account = organisers.find_organiser(invitation.email) is not None
    form = ActionForm() if has_account else NewPasswordForm()
    if form.validate_on_submit():
        try:
            accepted = organisers.accept_invitation(invitation, None if has_account else form.password.data)
            audit.record_now("invitation.accepted", accepted,
                             invitation.campaign if invitation.campaign_id else None,
                             {"invitation": invitation.id, "admin": invitation.as_admin}, ip=request.remote_addr)
        except organisers.AccountError as exc:
            if has_account:
                return render_template("organiser/link_expired.html", what="invitation"), 410
            form.password.errors.append(str(exc))
        else:
            _log_out()
            flash(_("Welcome: the invitation is accepted. Log in to start."))
            return redirect(url_for(".login"), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/invitation.html", form=form, invitation=invitation,
                           has_account=has_account), status


@bp.get("/")
@login_required
def index():
    """The campaigns this organiser may see."""
    visible = organisers.campaigns_for(current_user)
    return render_template("organiser/index.html", campaigns=visible,
                           counts=counts.signature_counts([c.id for c in visible]))


@bp.route("/organisers", methods=["GET", "POST"])
@admin_only
def manage_organisers():
    """Admins create organiser accounts."""
    form = OrganiserForm()
    if form.validate_on_submit():
        try:
            created = organisers.create_organiser(form.email.data, form.password.data, form.is_admin.data)
        except organisers.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            record_action("organiser.created", detail={"organiser": created.id, "admin": created.is_admin}, now=True)
            flash(_("Organiser %(email)s created.", email=form.email.data))
            return redirect(url_for(".manage_organisers"), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/organisers.html", form=form, invite_form=InviteForm(prefix="invite"),
                           organisers=organisers.all_organisers(), two_factor_required=two_factor.required()), status


@bp.post("/organisers/invite")
@admin_only
def invite_organiser():
    """An admin invites an address as an organiser (or an admin) of the site;
    campaigns are given from each campaign's Members page."""
    invite_form = InviteForm(prefix="invite")
    if invite_form.validate():
        invitation = organisers.invite(invite_form.email.data, current_user, as_admin=invite_form.as_admin.data)
        record_action("invitation.sent", detail={"invitation": invitation.id, "admin": invitation.as_admin}, now=True)
        flash(_("We have emailed an invitation to %(email)s. The link works once, for %(n)s days.",
                email=invite_form.email.data, n=current_app.config["INVITATION_DAYS"]))
        return redirect(url_for(".manage_organisers"), 303)
    return render_template("organiser/organisers.html", form=OrganiserForm(formdata=None), invite_form=invite_form,
                           organisers=organisers.all_organisers(), two_factor_required=two_factor.required()), 422


@bp.post("/organisers/<int:organiser_id>/account")
@admin_only
def organiser_account(organiser_id: int):
    """Deactivate an organiser (every session of theirs ends at once) or
    reactivate one. Not oneself: an admin cannot lock themselves out."""
    action = posted_action({"deactivate", "reactivate"})
    organiser = db.session.get(Organiser, organiser_id)
    if organiser is None or organiser.id == current_user.id:
        abort(404)
    record_action(f"organiser.{action}d", detail={"organiser": organiser.id})
    signins.set_active(organiser, action == "reactivate")
    if action == "deactivate":
        flash(_("%(email)s is deactivated and logged out everywhere.", email=organiser.email))
    else:
        flash(_("%(email)s can log in again.", email=organiser.email))
    return redirect(url_for(".manage_organisers"), 303)


# --- Campaigns --------------------------------------------------------------

def _campaign_fields(form: CampaignForm) -> dict:
    start, end = form.window_in_utc()
    return {
        "kind": form.kind.data, "slug": form.slug.data, "title": form.title.data,
        "summary": form.summary.data, "story": form.story.data or "",
        "pledge_text": form.pledge_text.data, "demands": form.demands.data or "",
        "goal": form.goal.data, "goal_fixed": form.goal_fixed.data,
        "window_start": start, "window_end": end, "time_zone": form.time_zone.data,
        "postcode_required": form.postcode_required.data, "share_text": form.share_text.data or "",
        "asks_date": form.asks_date.data and form.kind.data == Kind.PLEDGE,
        "date_question": form.date_question.data or "",
        "asks_reason": form.asks_reason.data and form.kind.data == Kind.PLEDGE,
        "next_action": form.next_action.data or "",
        "retention_days": form.retention_days_value(),
        **form.freeze_fields(),
    }


def _uploaded_image(form: CampaignForm) -> campaigns.CleanImage | None:
    """The uploaded image, checked and written afresh; None if there is none or
    it is refused (then the field carries the message)."""
    upload = form.image.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    data = upload.read(current_app.config["IMAGE_MAX_BYTES"] + 1)
    try:
        return campaigns.clean_image(data)
    except campaigns.BadImage as exc:
        reason = str(exc)
        if reason == campaigns.BadImage.TOO_LARGE:
            message = _("The image must be at most 2 MB")
        elif reason == campaigns.BadImage.TOO_MANY_PIXELS:
            side = current_app.config["IMAGE_MAX_PIXELS_SIDE"]
            message = _("The image is too large: at most %(side)s x %(side)s pixels.", side=side)
        else:
            message = _("This file is not an image we can use (PNG, JPEG, GIF or WebP).")
        form.image.errors = [message]
        return None


def _editing(form: CampaignForm, campaign: Campaign | None):
    """Shared by create and edit: preview, validate, save. Nothing is saved
    unless every field, the image included, is acceptable."""
    preview = None
    if request.method == "POST" and "preview" in request.form:
        form.validate()
        preview = form.story.data or ""
        return None, preview
    valid = form.validate_on_submit()
    image = _uploaded_image(form) if request.method == "POST" else None
    if not valid or form.image.errors:
        return None, preview
    try:
        if campaign is None:
            campaign = campaigns.create_campaign(current_user, _campaign_fields(form))
            record_action("campaign.created", campaign, now=True)
        else:
            fields = _campaign_fields(form)
            changed = sorted(name for name, value in fields.items() if getattr(campaign, name) != value)
            record_action("campaign.edited", campaign, {"fields": changed})
            campaigns.update_campaign(campaign, fields)
    except campaigns.SlugTaken:
        form.slug.errors = [_("That web address is already taken")]
        return None, preview
    if image is not None:
        record_action("campaign.image", campaign)
        campaigns.store_image(campaign, image)
    return campaign, preview


@bp.route("/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign():
    """A new campaign starts as a draft, visible only to its members."""
    form = CampaignForm()
    campaign, preview = _editing(form, None)
    if campaign is not None:
        flash(_("Campaign created as a draft."))
        return redirect(url_for(".dashboard", slug=campaign.slug), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/campaign_form.html", form=form, campaign=None, preview=preview), status


@bp.route("/c/<slug>/edit", methods=["GET", "POST"])
@member_campaign
def edit_campaign(campaign: Campaign):
    form = CampaignForm(obj=campaign)
    if request.method == "GET":
        form.fill_window_from(campaign)
    saved, preview = _editing(form, campaign)
    if saved is not None:
        flash(_("Campaign saved."))
        return redirect(url_for(".dashboard", slug=saved.slug), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/campaign_form.html", form=form, campaign=campaign, preview=preview), status


@bp.post("/c/<slug>/status")
@member_campaign
def change_status(campaign: Campaign):
    """Publish, close, or take back to draft. The dashboard sends taking a
    live campaign down (close, back to draft) through confirm_status first."""
    action = posted_action({s.value for s in CampaignStatus})
    record_action("campaign.status", campaign, {"status": action, "from": campaign.status.value})
    campaigns.set_status(campaign, CampaignStatus(action))
    flash(_("The campaign is now %(status)s.", status=action))
    return redirect(url_for(".dashboard", slug=campaign.slug), 303)


@bp.get("/c/<slug>/status")
@member_campaign
def confirm_status(campaign: Campaign):
    """The step before taking a live campaign down (?to=closed, the default,
    or ?to=draft): what it will do, and a button that does it. A page, not a
    script's confirm(), so it works without JavaScript; nothing changes
    before its POST. A campaign that is not live has nothing to confirm."""
    to = request.args.get("to", CampaignStatus.CLOSED.value)
    if to not in (CampaignStatus.CLOSED.value, CampaignStatus.DRAFT.value):
        abort(400)
    if campaign.status != CampaignStatus.LIVE:
        return redirect(url_for(".dashboard", slug=campaign.slug), 303)
    return render_template("organiser/status_confirm.html", campaign=campaign, to=to,
                           count=counts.signature_count(campaign.id))


@bp.get("/c/<slug>/preview")
@member_campaign
def preview(campaign: Campaign):
    """The public page as it will look, for drafts too; ``?language=`` one
    of the campaign's translations, published or not (see languages)."""
    language = request.args.get("language")
    if language not in translations.other_languages(campaign):
        return render_campaign(campaign, preview=True)
    with force_locale(language):
        return render_campaign(campaign, preview=True, language=language)


# --- Dashboard --------------------------------------------------------------

def _status_figures(campaign: Campaign) -> dict:
    """Signatures by status and the share opted in, from the stored counts."""
    by_status = counts.status_counts(campaign.id)
    figures = {s.value: by_status.get((s.value, True), 0) + by_status.get((s.value, False), 0)
               for s in SignatureStatus}
    confirmed = figures[SignatureStatus.CONFIRMED]
    opted_in = by_status.get((SignatureStatus.CONFIRMED.value, True), 0)
    figures["opted_in"] = opted_in
    figures["opt_in_share"] = round(100 * opted_in / confirmed) if confirmed else 0
    return figures


@bp.get("/c/<slug>/")
@member_campaign
def dashboard(campaign: Campaign):
    """Counts, charts, businesses, exports and invalidations of one campaign."""
    by_day = counts.counts_by_day(campaign.id)
    by_country = counts.counts_by_country(campaign.id)
    figures = _status_figures(campaign)
    return render_template(
        "organiser/dashboard.html",
        campaign=campaign,
        count=counts.signature_count(campaign.id),
        figures=figures,
        by_country=by_country,
        daily_chart=charts.daily_chart(by_day),
        # The chart's labels in the page's language (the rows keep the English names exports carry).
        country_chart=charts.country_chart([{**row, "country_name": countries.local_name(row["country"])}
                                            for row in by_country]),
        business_counts=businesses.counts_by_status(campaign.id),
        exports_log=exports.recent_exports(campaign.id),
        invalidations=moderation.invalidations(campaign),
        take_part=check_ins.take_part(campaign.id) if campaign.kind == Kind.FREEZE else None,
        confirming=confirm_reminders.confirmation_figures(
            campaign.id, figures[SignatureStatus.CONFIRMED], figures[SignatureStatus.PENDING]),
        retention=retention.outlook(campaign),
        action_form=ActionForm(),
    )


# --- Exports ----------------------------------------------------------------

@bp.get("/c/<slug>/export/counts")
@member_campaign
def export_counts(campaign: Campaign):
    """Signature counts by day, by country, by source, by language or in
    total, as CSV or JSON."""
    by = request.args.get("by", "total")
    fmt = request.args.get("format", "csv")
    if by not in exports.BY_CHOICES or fmt not in exports.FORMAT_CHOICES:
        abort(404)
    body = exports.render_counts(campaign.id, by, fmt)
    record_action("export.counts", campaign, {"by": by, "format": fmt})
    exports.record_export(campaign, current_user, f"counts by {by} ({fmt})")
    filename = f"{campaign.slug}-signatures-by-{by}.{fmt}"
    return Response(body, mimetype="text/csv" if fmt == "csv" else "application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/c/<slug>/export/signers.csv")
@member_campaign
def export_signers(campaign: Campaign):
    """Every signature with its personal data, streamed in constant memory."""
    record_action("export.signers", campaign, {"format": "csv"})
    exports.record_export(campaign, current_user, "signer list (csv)")
    return Response(
        stream_with_context(exports.stream_signers(campaign.id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{campaign.slug}-signers.csv"',
                 "Cache-Control": "no-store"},
    )


# --- Businesses -------------------------------------------------------------

@bp.get("/c/<slug>/businesses")
@member_campaign
def business_queue(campaign: Campaign):
    if campaign.kind != Kind.BOYCOTT:
        abort(404)
    return render_template("organiser/businesses.html", campaign=campaign,
                           reviews=businesses.for_review(campaign.id), form=ActionForm())


@bp.post("/c/<slug>/businesses/<int:business_id>")
@member_campaign
def decide_business(campaign: Campaign, business_id: int):
    """Approve or reject one entry, by id: two entries may share a name."""
    business = businesses.business_of(campaign, business_id)
    if business is None:
        abort(404)
    action = posted_action((BusinessStatus.APPROVED, BusinessStatus.REJECTED))
    if businesses.decide(business, BusinessStatus(action)):
        record_action(f"business.{action}", campaign, {"business": business.id}, now=True)
        flash(_("%(name)s: %(status)s.", name=business.organisation, status=action))
    else:
        flash(_("%(name)s cannot be approved yet: its contact address has not confirmed the pledge.",
                name=business.organisation))
    return redirect(url_for(".business_queue", slug=campaign.slug), 303)


# --- Fraud and mistakes -----------------------------------------------------

def _criteria(form: SearchForm) -> moderation.Criteria:
    return moderation.Criteria(
        email_domain=form.email_domain.data or "", name=form.name.data or "",
        since=form.since.data, until=form.until.data, ip=form.ip.data or "", ip_hash=form.ip_hash.data or "",
    )


@bp.get("/c/<slug>/signatures")
@member_campaign
def signatures(campaign: Campaign):
    """Search signatures; see the sources that signed most in the last hour."""
    form = SearchForm(request.args)
    results, matching = [], None
    searched = any(request.args.get(f.name) for f in form)
    if searched and form.validate():
        criteria = _criteria(form)
        results = moderation.search(campaign, criteria)
        matching = moderation.count_matching(campaign, criteria)
    status = 422 if form.errors else 200
    return render_template(
        "organiser/signatures.html", campaign=campaign, form=form, results=results, matching=matching,
        searched=searched, sources=moderation.busiest_sources(campaign),
        questions=questions.questions_of(campaign.id),
        invalidate_form=InvalidateForm(formdata=None, data=form.data),
    ), status


@bp.post("/c/<slug>/signatures/invalidate")
@member_campaign
def invalidate(campaign: Campaign):
    """Two steps: a preview of how many will change, then the change itself."""
    form = InvalidateForm()
    if not form.validate():
        return render_template("organiser/invalidate.html", campaign=campaign, form=form, matching=None), 422
    criteria = _criteria(form)
    if criteria.is_empty:
        form.email_domain.errors.append(_("Search for something first: invalidating needs at least one criterion"))
        return render_template("organiser/invalidate.html", campaign=campaign, form=form, matching=None), 422
    if form.confirm.data != "yes":
        matching = moderation.count_matching(campaign, criteria)
        form.confirm.data = "yes"
        return render_template("organiser/invalidate.html", campaign=campaign, form=form, matching=matching)
    batch = moderation.invalidate(campaign, criteria, current_user, form.reason.data or "")
    record_action("signatures.invalidated", campaign, {
        "invalidation": batch.id, "signatures": batch.signatures, "reason_given": bool(form.reason.data),
        "searched_by": sorted(criteria.as_json())}, now=True)
    flash(_("%(n)s signatures invalidated.", n=formats.number(batch.signatures)))
    return redirect(url_for(".dashboard", slug=campaign.slug), 303)


@bp.post("/c/<slug>/invalidations/<int:invalidation_id>/undo")
@member_campaign
def undo_invalidation(campaign: Campaign, invalidation_id: int):
    batch = db.session.get(Invalidation, invalidation_id)
    if batch is None or batch.campaign_id != campaign.id:
        abort(404)
    if not ActionForm().validate():
        abort(400)
    restored = moderation.undo_invalidation(batch)
    record_action("signatures.restored", campaign, {"invalidation": batch.id, "signatures": restored}, now=True)
    flash(_("%(n)s signatures restored.", n=formats.number(restored)))
    return redirect(url_for(".dashboard", slug=campaign.slug), 303)


# --- Members ----------------------------------------------------------------

@bp.route("/c/<slug>/members", methods=["GET", "POST"])
@member_campaign
def members(campaign: Campaign):
    """Members see who else runs the campaign; admins add and remove them."""
    form = MemberForm()
    if request.method == "POST":
        if not current_user.is_admin:
            abort(404)
        if form.validate():
            organiser = organisers.find_organiser(form.email.data)
            if organiser is None:
                invitation = organisers.invite(form.email.data, current_user, campaign=campaign)
                record_action("invitation.sent", campaign, {"invitation": invitation.id}, now=True)
                flash(_("%(email)s has no account yet: we have emailed them an invitation to this campaign. "
                        "The link works once, for %(n)s days.", email=form.email.data,
                        n=current_app.config["INVITATION_DAYS"]))
            else:
                organisers.add_member(organiser, campaign)
                record_action("member.added", campaign, {"member": organiser.id}, now=True)
                flash(_("%(email)s is now a member.", email=organiser.email))
            return redirect(url_for(".members", slug=campaign.slug), 303)
    status = 422 if form.errors else 200
    return render_template("organiser/members.html", campaign=campaign, form=form,
                           members=organisers.members_of(campaign), action_form=ActionForm()), status


@bp.post("/c/<slug>/members/<int:organiser_id>/remove")
@member_campaign
def remove_member(campaign: Campaign, organiser_id: int):
    if not current_user.is_admin:
        abort(404)
    organiser = db.session.get(Organiser, organiser_id)
    if organiser is None or not ActionForm().validate():
        abort(404)
    organisers.remove_member(organiser, campaign)
    record_action("member.removed", campaign, {"member": organiser.id}, now=True)
    return redirect(url_for(".members", slug=campaign.slug), 303)


# --- Updates to supporters ---------------------------------------------------

def _campaign_update(campaign: Campaign, update_id: int) -> CampaignUpdate:
    row = db.session.get(CampaignUpdate, update_id)
    if row is None or row.campaign_id != campaign.id:
        abort(404)
    return row


@bp.get("/c/<slug>/updates")
@member_campaign
def updates(campaign: Campaign):
    """Every update with its progress; the milestone switch."""
    rows = broadcasts.updates_of(campaign)
    return render_template("organiser/updates.html", campaign=campaign, updates=rows,
                           progress={u.id: broadcasts.progress(u) for u in rows}, action_form=ActionForm())


@bp.post("/c/<slug>/milestones")
@member_campaign
def milestones(campaign: Campaign):
    on = posted_action(("on", "off")) == "on"
    record_action("milestones.on" if on else "milestones.off", campaign)
    broadcasts.set_milestone_emails(campaign, on)
    flash(_("Milestone emails are on.") if campaign.milestone_emails else _("Milestone emails are off."))
    return redirect(url_for(".updates", slug=campaign.slug), 303)


@bp.route("/c/<slug>/updates/new", methods=["GET", "POST"])
@member_campaign
def new_update(campaign: Campaign):
    """Write (in the default language, and optionally in each published
    one), preview, test, then go on to send."""
    form = update_form_class(campaign)()
    action = request.form.get("action")
    previews = []
    recipients = broadcasts.recipient_count(campaign)
    if request.method == "POST" and form.validate():
        if form.send_at.data and form.send_at_utc(campaign.zone) <= utcnow():
            form.send_at.errors = [_("Choose a time in the future, or leave it empty to send now")]
        else:
            draft = CampaignUpdate(campaign=campaign, subject=form.subject.data, body=form.body.data,
                                   translations=form.translations())
            if action == "test":
                record_action("update.test_sent", campaign)
                broadcasts.send_test(draft, current_user.email)
                flash(_("A test is on its way to %(email)s.", email=current_user.email))
            elif action == "send":
                saved = broadcasts.create_update(campaign, current_user, form.subject.data, form.body.data,
                                                 scheduled_at=form.send_at_utc(campaign.zone),
                                                 translations=form.translations())
                record_action("update.created", campaign, {"update_id": saved.id}, now=True)
                return redirect(url_for(".confirm_update", slug=campaign.slug, update_id=saved.id), 303)
            # Each version as its readers will get it.
            previews = [(language_name(language), render_update(
                draft, current_user.email.split("@")[0].title(),
                url_for("public.unsubscribe", token="preview", _external=True), language=language))
                for language in versions(draft)]
    status = 422 if form.errors else 200
    return render_template("organiser/update_form.html", campaign=campaign, form=form, previews=previews,
                           recipients=recipients), status


@bp.route("/c/<slug>/updates/<int:update_id>/send", methods=["GET", "POST"])
@member_campaign
def confirm_update(campaign: Campaign, update_id: int):
    """The confirmation step: nothing is sent before this POST."""
    row = _campaign_update(campaign, update_id)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        if row.status == UpdateStatus.DRAFT:
            later = row.scheduled_at is not None and row.scheduled_at > utcnow()
            record_action("update.scheduled" if later else "update.sent", campaign, {"update_id": row.id})
            broadcasts.schedule(row, row.scheduled_at)
            flash(_("Your update is on its way.") if row.scheduled_at <= utcnow()
                  else _("Your update is scheduled."))
        return redirect(url_for(".update_progress", slug=campaign.slug, update_id=row.id), 303)
    by_language = broadcasts.recipients_by_language(campaign)
    return render_template(
        "organiser/update_confirm.html", campaign=campaign, update=row, form=form,
        recipients=sum(by_language.values()), default_language=language_name(campaign.default_language),
        versions=[(language, language_name(language), (row.translations or {})[language]["subject"])
                  for language in versions(row)[1:]],
        falling_back=[(language_name(language), supporters)
                      for language, supporters in broadcasts.falling_back(row, by_language)])


@bp.get("/c/<slug>/updates/<int:update_id>")
@member_campaign
def update_progress(campaign: Campaign, update_id: int):
    row = _campaign_update(campaign, update_id)
    return render_template("organiser/update_progress.html", campaign=campaign, update=row,
                           progress=broadcasts.progress(row), action_form=ActionForm())


@bp.post("/c/<slug>/updates/<int:update_id>/cancel")
@member_campaign
def cancel_update(campaign: Campaign, update_id: int):
    row = _campaign_update(campaign, update_id)
    if not ActionForm().validate():
        abort(400)
    stopped = broadcasts.cancel(row)
    record_action("update.cancelled", campaign, {"update_id": row.id, "stopped": stopped}, now=True)
    flash(_("Update cancelled; %(n)s emails will not be sent.", n=formats.number(stopped)))
    return redirect(url_for(".update_progress", slug=campaign.slug, update_id=row.id), 303)
