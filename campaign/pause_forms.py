"""The fields of a business's pause period: on the business form (where it
states the period as it pledges) and on the page that extends it. The rules
are pause_periods'."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField
from wtforms.validators import InputRequired, Optional

from . import pause_periods
from .form_base import Form
from .models import Business, utcnow
from .shared_pages import PageCSRF


class DayField(DateField):
    """A date picker (a text box of YYYY-MM-DD where browsers have none)
    whose message for a date it cannot read names the day it asks for;
    optional unless given the message for leaving it empty."""

    def __init__(self, label, unreadable, required=None, **kwargs):
        super().__init__(label, validators=[InputRequired(required) if required else Optional()], **kwargs)
        self.unreadable = unreadable

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(self.unreadable) from None


def pause_fields() -> tuple[DayField, DayField]:
    """The first and last day of the pause, for a form's class body (where
    they are made decides their place among the form's fields)."""
    return (DayField(_l("First day of the pause"),
                     _l("Enter the first day of the pause as a date, like 2026-07-01")),
            DayField(_l("Last day of the pause"),
                     _l("Enter the last day of the pause as a date, like 2026-07-31")))


class PausePeriod:
    """For a form with ``pause_start`` and ``pause_end`` (see pause_fields):
    an empty first day is the day of the pledge, an empty last day "until
    further notice"; the rules run once both fields have been read."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.pause_start.errors or self.pause_end.errors:
            return False
        today = utcnow().date()
        problem = pause_periods.pledge_problem(self.pause_start.data or today, self.pause_end.data, today)
        if problem:
            field, message = problem
            self[field].errors = [*self[field].errors, message]
            return False
        return valid

    def pause_period(self) -> tuple[dt.date, dt.date | None]:
        return self.pause_start.data or utcnow().date(), self.pause_end.data


class ExtendPauseForm(Form):
    """A new last day, or "until further notice": on the page the link in a
    business's confirmation email opens, so with the public pages' token
    (see shared_pages), not a session's."""

    class Meta:
        csrf_class = PageCSRF

    pause_end = DayField(_l("New last day of the pause"),
                         _l("Enter the new last day as a date, like 2026-08-31"))
    until_further_notice = BooleanField(_l("Until further notice (no last day)"))

    def check_against(self, business: Business) -> bool:
        """The form's own checks, then whether it extends ``business``'s pause."""
        if not self.validate():
            return False
        if self.until_further_notice.data:
            if self.pause_end.data is not None:
                self.pause_end.errors = [_l("Give a new last day or tick “Until further notice”, not both")]
                return False
            return True
        if self.pause_end.data is None:
            self.pause_end.errors = [_l("Enter the new last day of the pause, or tick “Until further notice”")]
            return False
        problem = pause_periods.extension_problem(business, self.pause_end.data)
        if problem:
            self.pause_end.errors = [problem]
            return False
        return True
