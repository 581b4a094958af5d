"""The base of every form on the site, and how a page tells that it shows
a form's errors."""
from flask import request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from jinja2 import pass_context
from markupsafe import Markup, escape
from werkzeug.datastructures import CombinedMultiDict
from wtforms.form import BaseForm


class Form(FlaskForm):
    """A FlaskForm that reads only what a browser's form sends: fields and
    files. Flask-WTF would also take a JSON body, whose numbers, lists and
    objects the field validators are not written for."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:
                return formdata
            if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
                return None
            if request.files:
                return CombinedMultiDict((request.files, request.form))
            return request.form


def has_shown_errors(form: BaseForm) -> bool:
    """Errors the error summary lists: a field's, not the CSRF token's (a
    forged or expired form gets a page of its own)."""
    return any(field.errors for field in form if field.type != "CSRFTokenField")


@pass_context
def shows_form_errors(context) -> bool:
    """Whether the page being rendered sends a form back with errors: a
    form in its context has some, or the view gave an ``error`` message.
    Read by the base template, so no page has to remember it."""
    values = context.get_all()
    if isinstance(values.get("error"), str) and values["error"]:
        return True
    # type(), not isinstance(): isinstance would open the proxies in the
    # context (session, g), and a public page must not touch the session.
    return any(issubclass(type(value), BaseForm) and has_shown_errors(value) for value in values.values())


def error_title(title: str, shows_errors: bool) -> str:
    """The page title, starting "Error:" when the page shows form errors,
    so that the first thing a screen reader says of the page is that it
    needs fixing."""
    prefix = _("Error:")
    if not shows_errors or str(title).lstrip().startswith(prefix):
        return title
    return Markup(f"{escape(prefix)} ") + title
