"""The organisers' forms of a boycott's follow-through: marking a business
resumed, and recording a demand's status on the scorecard. Both publish a
link (the evidence, the source), so both hold it to the same rule: a plain
http(s) address of a real host, which the pages show with rel="nofollow
noopener noreferrer"."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..form_base import Form
from ..models import DemandStatus, utcnow
from ..pause_forms import DayField
from ..validation import strip
from .forms import NoControlCharacters

LINK_MAX = 2000
NOTE_MAX = 500

DEMAND_STATUS_LABELS = {
    DemandStatus.NO_RESPONSE: _l("No response yet"),
    DemandStatus.PARTLY_MET: _l("Partly met"),
    DemandStatus.MET: _l("Met"),
    DemandStatus.REJECTED: _l("Rejected"),
}


class PublicLink:
    """An absolute http or https address of a host with a dot in its name,
    no spaces or characters that would end a link early."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        value = field.data or ""
        if not value:
            return
        if any(c.isspace() or c in '<>"\'`\\' for c in value) or not value.isprintable():
            raise ValidationError(self.message)
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
        except ValueError:
            raise ValidationError(self.message) from None
        if parts.scheme not in ("http", "https") or "." not in host.strip("."):
            raise ValidationError(self.message)


def _not_in_the_future(message):
    def check(form, field):
        if field.data is not None and field.data > utcnow().date() + dt.timedelta(days=1):
            raise ValidationError(message)  # a day's grace: it is already tomorrow somewhere
    return check


class ResumeForm(Form):
    """An approved business advertises again: when, a public note, and the evidence."""
    resumed_on = DayField(_l("Day it resumed advertising"),
                          _l("Enter the day it resumed as a date, like 2026-08-15"),
                          required=_l("Enter the day it resumed advertising"))
    note = TextAreaField(_l("Public note"), filters=[strip], validators=[
        DataRequired(_l("Write a short public note: what you saw, and where")),
        Length(max=NOTE_MAX, message=_l("The note must be %(n)s characters or fewer", n=NOTE_MAX)),
        NoControlCharacters()], render_kw={"rows": 3})
    evidence_url = StringField(_l("Link to the evidence"), filters=[strip], validators=[
        DataRequired(_l("Add a link to the evidence, such as the business’s page in an ad library")),
        Length(max=LINK_MAX, message=_l("The link must be %(n)s characters or fewer", n=LINK_MAX)),
        PublicLink(_l("Enter the evidence as a web address starting https:// or http://"))],
        render_kw={"inputmode": "url", "autocomplete": "off"})

    def validate_resumed_on(self, field):
        _not_in_the_future(_l("The day it resumed cannot be in the future"))(self, field)


class DemandStatusForm(Form):
    """A dated status of one demand, with its source; optionally told to supporters."""
    demand = SelectField(_l("Demand"), validate_choice=False)
    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, label)
                                                for s, label in DEMAND_STATUS_LABELS.items()],
                         validate_choice=False)
    happened_on = DayField(_l("Day of the change"), _l("Enter the day as a date, like 2026-08-15"),
                           required=_l("Enter the day of the change"))
    note = TextAreaField(_l("Public note (optional)"), filters=[strip], validators=[
        Optional(), Length(max=NOTE_MAX, message=_l("The note must be %(n)s characters or fewer", n=NOTE_MAX)),
        NoControlCharacters()], render_kw={"rows": 3})
    source_url = StringField(_l("Link to the source"), filters=[strip], validators=[
        Length(max=LINK_MAX, message=_l("The link must be %(n)s characters or fewer", n=LINK_MAX)),
        PublicLink(_l("Enter the source as a web address starting https:// or http://"))],
        render_kw={"inputmode": "url", "autocomplete": "off"})
    announce = BooleanField(_l("Also write an update to supporters about it (you check it before it is sent)"))

    def validate_demand(self, field):
        if not field.data or field.data not in {choice.value for choice in self.demand.choices or []}:
            raise ValidationError(_l("Choose a demand from the list"))

    def validate_status(self, field):
        if field.data not in {s.value for s in DemandStatus}:
            raise ValidationError(_l("Choose a status from the list"))

    def validate_happened_on(self, field):
        _not_in_the_future(_l("The day of the change cannot be in the future"))(self, field)

    def validate_source_url(self, field):
        if not field.data and self.status.data in {s.value for s in DemandStatus} - {DemandStatus.NO_RESPONSE}:
            raise ValidationError(_l("Add a link to the source: where the response or the change can be read"))
