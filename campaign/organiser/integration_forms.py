"""The forms of the Integrations screens: an API key, a webhook endpoint,
and the one-button forms that act on them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import api_keys, webhooks
from ..form_base import Form
from ..models import Campaign
from ..validation import strip
from .forms import NoControlCharacters


class Checkboxes(SelectMultipleField):
    """A box per choice; any value that is not one of the choices (a form
    tampered with, a campaign one may no longer manage) gets ``invalid``,
    never WTForms' own message naming the value."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, invalid=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist):
        try:
            self.data = [self.coerce(value) for value in valuelist]
        except (TypeError, ValueError):
            self.data = []
            raise ValueError(self.invalid) from None

    def pre_validate(self, form):
        known = {value for value, _label in self.choices or ()}
        if any(value not in known for value in self.data or ()):
            raise ValidationError(self.invalid)


class ChooseOne:
    """At least one box ticked."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            raise ValidationError(self.message)


class ApiKeyForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[
        DataRequired(_l("Enter a name for the key")),
        Length(max=100, message=_l("The name must be 100 characters or fewer")), NoControlCharacters()],
        description=_l("What uses the key, so that you know it later: “Our CRM”, “The newsletter sync”."),
        render_kw={"autocomplete": "off"})
    campaigns = Checkboxes(_l("Campaigns"), coerce=int, validators=[
        ChooseOne(_l("Choose at least one campaign the key may use"))],
        invalid=_l("Choose among the campaigns listed"))
    permissions = Checkboxes(_l("Permissions"), validators=[
        ChooseOne(_l("Choose at least one permission"))],
        invalid=_l("Choose among the permissions listed"))

    def __init__(self, campaigns: list[Campaign], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaigns.choices = [(campaign.id, campaign.title) for campaign in campaigns]
        self.permissions.choices = [(name, api_keys.PERMISSION_LABELS[name]) for name in api_keys.PERMISSIONS]
        self.campaigns_by_id = {campaign.id: campaign for campaign in campaigns}

    def validate_permissions(self, field) -> None:
        chosen = set(field.data or ())
        if "confirm_signatures" in chosen and "write_signatures" not in chosen:
            raise ValidationError(_l("Recording signatures as confirmed needs the permission to write signatures "
                                     "too"))


class WebhookForm(Form):
    url = StringField(_l("Address (URL)"), filters=[strip], validators=[
        DataRequired(_l("Enter the address the events should be sent to"))],
        description=_l("Where your server listens, as https://crm.example.org/hooks/campaign. We POST each event "
                       "there as JSON."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "inputmode": "url"})
    events = Checkboxes(_l("Events"), validators=[ChooseOne(_l("Choose at least one event"))],
                        invalid=_l("Choose among the events listed"))
    description = StringField(_l("Description"), filters=[strip], validators=[
        Optional(), Length(max=200, message=_l("The description must be 200 characters or fewer")),
        NoControlCharacters()],
        description=_l("For you and the other organisers: what this endpoint feeds."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(name, webhooks.EVENT_LABELS[name]) for name in webhooks.EVENTS]

    def validate_url(self, field) -> None:
        problem = webhooks.url_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class EditWebhookForm(WebhookForm):
    active = BooleanField(_l("Active: send events to this address"))


class RedeliverForm(Form):
    """A dead letter's "Redeliver" button: the message it sends again."""
    message = HiddenField(validators=[DataRequired()])

    def message_id(self) -> int | None:
        value = self.message.data or ""
        return int(value) if value.isdigit() and len(value) < 19 else None
