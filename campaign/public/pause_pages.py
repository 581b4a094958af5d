"""The page a business extends its pause on, from the link in its
confirmation email, on the public blueprint. Who may use the link, and how
often, is business_pauses' to say; this page parses, calls and renders."""
from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request

from .. import audit, business_pauses, tokens
from ..extensions import csrf, limiter
from ..pause_forms import ExtendPauseForm
from .views import _per_ip, _refuse_forged, bp


def _no_store(body, status: int = 200):
    """The page is reached by a link that is a key: no cache may keep it."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/business/extend/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself: see shared_pages
@limiter.limit(lambda: current_app.config["RATELIMIT_BUSINESS"], methods=["POST"], key_func=_per_ip)
def business_extend(token: str):
    """GET shows the pause and a form; only the POST extends (mail scanners
    follow links). A link past BUSINESS_EXTEND_LINK_DAYS gets a page that
    says so; a forged one, not found."""
    days = current_app.config["BUSINESS_EXTEND_LINK_DAYS"]
    business_id = tokens.extend_business_id(token, days * 86400)
    if business_id is None:
        if tokens.extend_business_id(token, None) is None:
            abort(404)
        return _no_store(render_template("public/business_extend_expired.html", days=days), 410)
    found = business_pauses.extend_page(business_id)
    if found is None:
        abort(404)
    business, page = found
    form = ExtendPauseForm()
    status = 200
    if request.method == "POST":
        checked = form.check_against(business) if page.refusal is None else form.validate()
        _refuse_forged(form)
        if page.refusal is None and checked:
            new_end = None if form.until_further_notice.data else form.pause_end.data
            page, extended = business_pauses.extend(business, new_end)
            if extended:
                audit.record_now("business.extended", None, business.campaign,
                                 {"business": business.id, "until_further_notice": new_end is None},
                                 ip=request.remote_addr)
                return _no_store(render_template("public/business_extended.html", page=page))
        elif page.refusal is None:
            status = 422
    if page.refusal is not None and request.method == "POST":
        status = 409
    return _no_store(render_template("public/business_extend.html", page=page, form=form), status)
