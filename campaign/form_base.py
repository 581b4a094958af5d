"""The base of every form on the site."""
from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict


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
