""""Manage my data": a supporter asks for a link to everything the site
holds about their mailbox, and from it downloads, changes, withdraws or
erases it (see campaign.my_data).

Asking answers with the same page whatever the address (it says nothing of
what we hold) and only queues work: the outbox worker decides whether a
link goes, and where (see campaign.privacy_mail). It is limited per client
address here (RATELIMIT_MY_DATA) and per mailbox there.

The pages behind a link are personal: never cached (``no-store,
private``), never indexed, and they send a Referer only to this site
(``same-origin``), so the token in their address does not leak through a
link followed from them; the request log names their route, not the token (see http). Their
forms carry a page token of their own scope and are checked like every
public form (see shared_pages): no cookie is read or set, and a form sent
from another site is refused. Every action needs the link's token too."""
from __future__ import annotations

from flask import Response, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, NumberRange

from .. import my_data as own_data
from ..extensions import csrf, limiter
from ..public_forms import PublicForm
from ..shared_pages import PageCSRF, page_token
from ..validation import EmailAddress, strip
from .views import _per_ip, _refuse_forged, bp

# The page token of these forms is good for these pages only.
SCOPE = "my-data"


class _MyDataCSRF(PageCSRF):
    scope = SCOPE


class MyDataForm(PublicForm):
    class Meta:
        csrf_class = _MyDataCSRF


class AskForLinkForm(MyDataForm):
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address")), EmailAddress()],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email", "spellcheck": "false"},
    )


_A_SIGNATURE = [InputRequired(), NumberRange(min=1, max=2**31 - 1)]


class DownloadForm(MyDataForm):
    format = StringField(validators=[AnyOf(("json", "html"))])


class ConsentForm(MyDataForm):
    signature = IntegerField(validators=_A_SIGNATURE)
    change = StringField(validators=[AnyOf(tuple(own_data.CHANGES))])


class WithdrawForm(MyDataForm):
    signature = IntegerField(validators=_A_SIGNATURE)


class EraseForm(MyDataForm):
    confirm = BooleanField(
        _l("I understand that this erases everything above, for good"),
        validators=[DataRequired(_l("Tick the box to confirm that you want everything erased"))])


def _personal(response: Response) -> Response:
    """Headers of a page that holds (or leads to) someone's data."""
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- Asking for a link -----------------------------------------------------------------

@bp.get("/my-data")
def my_data():
    """The form that emails a supporter a link to their data."""
    return render_template("public/my_data_request.html", form=AskForLinkForm(),
                           minutes=current_app.config["PRIVACY_LINK_MINUTES"])


@bp.post("/my-data")
@csrf.exempt  # checked by the form itself: see shared_pages
@limiter.limit(lambda: current_app.config["RATELIMIT_MY_DATA"], key_func=_per_ip)
def ask_for_my_data():
    """Queue the request and say the same thing whatever the address: we
    do not tell anyone whether we hold anything for it (see privacy_mail)."""
    form = AskForLinkForm()
    valid = form.validate()
    _refuse_forged(form)
    if not valid:
        return _personal(make_response(render_template(
            "public/my_data_request.html", form=form, minutes=current_app.config["PRIVACY_LINK_MINUTES"]), 422))
    own_data.ask_for_link(form.email.data)
    config = current_app.config
    return _personal(make_response(render_template(
        "public/my_data_sent.html", address=form.email.data, hours=config["PRIVACY_LINK_HOURS"],
        minutes=config["PRIVACY_LINK_MINUTES"])))


# --- Behind the link ---------------------------------------------------------------------

def _opened(token: str) -> own_data.OpenLink | Response:
    """The link's mailbox, or the page that says why it opens nothing."""
    opened = own_data.open_link(token)
    if isinstance(opened, own_data.OpenLink):
        return opened
    status = 404 if opened == own_data.LinkRefusal.FORGED else 410
    return _personal(make_response(render_template(
        "public/my_data_expired.html", refusal=opened.value, hours=current_app.config["PRIVACY_LINK_HOURS"]),
        status))


# What the page says after an action (its address says which, nothing more).
_DONE = {
    "changed": _l("Your choice is saved."),
    "unchanged": _l("Nothing was changed: it was already so, or it can no longer be changed."),
    "withdrawn": _l("Your signature is withdrawn: it no longer counts. You can sign again from the campaign "
                    "page whenever you like."),
    "not-withdrawn": _l("Nothing was withdrawn: it was withdrawn already, or it is no longer yours to withdraw."),
}


def _page(token: str, data: own_data.MyData, erase_form: EraseForm | None = None, status: int = 200):
    done = _DONE.get(request.args.get("done", "")) if request.method == "GET" else None
    return _personal(make_response(render_template(
        "public/my_data_page.html", data=data, token=token, form_token=page_token(SCOPE),
        erase_form=erase_form or EraseForm(), done=done,
        hours=current_app.config["PRIVACY_LINK_HOURS"]), status))


@bp.get("/my-data/<token>")
def my_data_page(token: str):
    """Everything we hold about the link's mailbox, with what they can do with it."""
    opened = _opened(token)
    if isinstance(opened, Response):
        return opened
    return _page(token, own_data.viewed(opened.mailbox))


def _posted(token: str, form_class):
    """A POST behind the link: the link first (a refusal page), then the
    form (a forgery is a 400)."""
    opened = _opened(token)
    if isinstance(opened, Response):
        return opened, None, False
    form = form_class()
    valid = form.validate()
    _refuse_forged(form)
    return opened, form, valid


_actions_limit = limiter.limit(lambda: current_app.config["RATELIMIT_CONFIRM"], key_func=_per_ip)


@bp.post("/my-data/<token>/download")
@csrf.exempt  # checked by the form itself: see shared_pages
@_actions_limit
def my_data_download(token: str):
    """Everything, with the emails we sent, as a JSON file or a web page to keep."""
    opened, form, valid = _posted(token, DownloadForm)
    if form is None:
        return opened
    if not valid:
        abort(400)
    data = own_data.download(opened.mailbox, form.format.data)
    if form.format.data == "json":
        response = make_response(own_data.as_json_bytes(data))
        response.mimetype = "application/json"
    else:
        response = make_response(render_template("public/my_data_download.html", data=data))
    response.headers["Content-Disposition"] = f'attachment; filename="my-data.{form.format.data}"'
    return _personal(response)


@bp.post("/my-data/<token>/consents")
@csrf.exempt  # checked by the form itself: see shared_pages
@_actions_limit
def my_data_consents(token: str):
    """One change of one signature's consents; back to the page."""
    opened, form, valid = _posted(token, ConsentForm)
    if form is None:
        return opened
    if not valid:
        abort(400)
    changed = own_data.change_consent(opened.mailbox, form.signature.data, form.change.data)
    return redirect(url_for(".my_data_page", token=token, done="changed" if changed else "unchanged",
                            _anchor=f"signature-{form.signature.data}"), 303)


@bp.post("/my-data/<token>/withdraw")
@csrf.exempt  # checked by the form itself: see shared_pages
@_actions_limit
def my_data_withdraw(token: str):
    """Take one signature back; back to the page."""
    opened, form, valid = _posted(token, WithdrawForm)
    if form is None:
        return opened
    if not valid:
        abort(400)
    withdrawn = own_data.withdraw(opened.mailbox, form.signature.data)
    return redirect(url_for(".my_data_page", token=token, done="withdrawn" if withdrawn else "not-withdrawn",
                            _anchor=f"signature-{form.signature.data}"), 303)


@bp.post("/my-data/<token>/erase")
@csrf.exempt  # checked by the form itself: see shared_pages
@_actions_limit
def my_data_erase(token: str):
    """Erase everything, once the box saying so is ticked. The link opens
    nothing afterwards, so the answer is a page of its own."""
    opened, form, valid = _posted(token, EraseForm)
    if form is None:
        return opened
    if not valid:
        return _page(token, own_data.data_of(opened.mailbox), erase_form=form, status=422)
    erasure = own_data.erase(opened.mailbox)
    return _personal(make_response(render_template("public/my_data_erased.html", erasure=erasure)))

