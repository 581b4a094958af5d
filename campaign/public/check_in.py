"""A freeze's "Did you take part?" (its pages join the public blueprint).

The emailed link opens a page with two buttons and records nothing: mail
scanners open links. Only a POST answers, from that page or straight from
the buttons of the email itself. The POST carries no CSRF token and needs
no cookie, like RFC 8058's one-click unsubscribe: the signed token in the
URL is the proof. Only the mailbox we sent it to has it, it can do nothing
but set that one signature's answer (which its owner can change again),
and a site that does not know the token cannot make a browser send it. A
page token could not be in the email (it expires within hours), and the
email's buttons post from the mail program, so no Origin check either."""
from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request

from .. import check_ins, tokens
from ..check_ins import CheckInRefusal
from ..extensions import csrf, limiter
from .views import bp

ANSWERS = {"yes": True, "no": False}


def _signature_id(token: str) -> int:
    signature_id = tokens.signature_id_for(tokens.CHECK_IN, token)
    if signature_id is None:
        abort(404)
    return signature_id


def _answer_page(page: check_ins.CheckIn | None):
    if page is None:
        abort(404)
    status = 200
    if page.refusal is not None:
        status = 409 if page.refusal == CheckInRefusal.TOO_EARLY else 410
    response = make_response(render_template("public/check_in.html", page=page, refusal=page.refusal), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/check-in/<token>")
def check_in(token: str):
    """The two buttons, and the answer given so far; changes nothing."""
    return _answer_page(check_ins.check_in_page(_signature_id(token)))


@bp.post("/check-in/<token>")
@csrf.exempt  # the signed link is the authorisation: see the module docstring
@limiter.limit(lambda: current_app.config["RATELIMIT_CONFIRM"])
def check_in_answer(token: str):
    """Records "I took part" or "I couldn't this time": 200 with no redirect
    and no cookie; the same answer again is harmless, the other replaces it."""
    signature_id = _signature_id(token)
    took_part = ANSWERS.get(request.form.get("answer", ""))
    if took_part is None:
        abort(400)
    return _answer_page(check_ins.answer(signature_id, took_part))
