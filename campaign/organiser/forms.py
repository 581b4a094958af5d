"""The organisers' forms."""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..form_base import Form
from ..models import Kind, QuestionKind
from ..organisers import MIN_PASSWORD_LENGTH
from ..validation import EmailAddress, has_control_characters, strip

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@cache
def _zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def _zone_choices():
    return [SelectChoice(z, z.replace("_", " ")) for z in _zones()]


class NoControlCharacters:
    def __call__(self, form, field):
        text = field.data.replace("\n", "").replace("\r", "").replace("\t", "") if isinstance(field.data, str) else ""
        if has_control_characters(text):
            raise ValidationError(_l("%(label)s contains characters we cannot accept", label=field.label.text))


class LoginForm(Form):
    email = StringField(_l("Email"), filters=[strip],
                        validators=[DataRequired(_l("Enter your email address")), Length(max=320),
                                    NoControlCharacters()],
                        render_kw={"autocomplete": "username", "type": "email"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password")), Length(max=1000)],
                             render_kw={"autocomplete": "current-password"})


class CampaignForm(Form):
    kind = SelectField(_l("Kind"), choices=[
        SelectChoice(Kind.BOYCOTT.value, _l("Boycott (businesses pause their ads; people sign)")),
        SelectChoice(Kind.PLEDGE.value, _l("Pledge (people pledge to log off or walk away)")),
        SelectChoice(Kind.FREEZE.value, _l("Account freeze (people stop posting for a window)")),
    ], validate_choice=False)
    slug = StringField(_l("Web address"), filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
                       validators=[DataRequired(_l("Enter a web address for the campaign")),
                                   Length(min=3, max=80,
                                          message=_l("The web address must be 3 to 80 characters long"))],
                       description=_l("Lower-case letters, numbers and hyphens: /c/your-address"))
    title = StringField(_l("Title"), filters=[strip], validators=[
        DataRequired(_l("Enter a title")), Length(max=200, message=_l("The title must be 200 characters or fewer")),
        NoControlCharacters()])
    summary = StringField(_l("Summary"), filters=[strip], validators=[
        DataRequired(_l("Enter a one-sentence summary")),
        Length(max=500, message=_l("The summary must be 500 characters or fewer")), NoControlCharacters()])
    story = TextAreaField(_l("Story"), validators=[
        Length(max=20000, message=_l("The story must be 20,000 characters or fewer")), NoControlCharacters()],
        description=_l("Markdown: **bold**, *italic*, [links](https://example.org), lists and ## headings."))
    pledge_text = TextAreaField(_l("Pledge text"), filters=[strip], validators=[
        DataRequired(_l("Enter the text people sign")),
        Length(max=2000, message=_l("The pledge text must be 2,000 characters or fewer")), NoControlCharacters()])
    demands = TextAreaField(_l("Demands"), validators=[
        Length(max=5000, message=_l("The demands must be 5,000 characters or fewer")), NoControlCharacters()],
        description=_l("One per line."))
    goal = IntegerField(_l("Goal"), default=1000, validators=[
        InputRequired(_l("Enter a goal as a whole number")),
        NumberRange(min=1, max=1_000_000_000, message=_l("The goal must be between 1 and 1,000,000,000"))])
    goal_fixed = BooleanField(_l("Keep the goal fixed (do not raise it when reached)"))
    time_zone = SelectField(_l("Time zone"), choices=_zone_choices, default="UTC", validate_choice=False)
    window_start = DateTimeLocalField(
        _l("Window starts"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description=_l("Local time in the chosen time zone: the pause (boycott) or the protest (freeze)."))
    window_end = DateTimeLocalField(_l("Window ends"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    postcode_required = BooleanField(_l("Ask signers for their postcode (required)"))
    share_text = StringField(_l("Share text"), filters=[strip], validators=[
        Length(max=280, message=_l("The share text must be 280 characters or fewer")), NoControlCharacters()])
    next_action = TextAreaField(_l("Next action after the window"), filters=[strip], validators=[
        Length(max=2000, message=_l("The next action must be 2,000 characters or fewer")), NoControlCharacters()])
    image = FileField(_l("Image"), description=_l("PNG, JPEG, GIF or WebP, at most 2 MB and 4000 x 4000 pixels."))

    def validate_kind(self, field):
        if field.data not in {k.value for k in Kind}:
            raise ValidationError(_l("Choose the kind of campaign"))

    def validate_slug(self, field):
        if field.data and not SLUG.match(field.data):
            raise ValidationError(_l("Use only lower-case letters, numbers and single hyphens"))

    def validate_time_zone(self, field):
        if field.data not in _zones():
            raise ValidationError(_l("Choose a time zone from the list"))

    def validate(self, extra_validators=None) -> bool:
        # The window rules look at both ends together, so they run after the
        # fields' own checks (an empty end would stop a field validator).
        valid = super().validate(extra_validators)
        if self.window_start.errors or self.window_end.errors:
            return False
        problem = self._window_problem()
        if problem:
            self.window_end.errors = [*self.window_end.errors, problem]
            return False
        return valid

    def _window_problem(self):
        start, end = self.window_start.data, self.window_end.data
        if (start is None) != (end is None):
            return _l("Give both the start and the end of the window, or neither")
        if start and end and end <= start:
            return _l("The window must end after it starts")
        if self.kind.data == Kind.FREEZE and start is None:
            return _l("A freeze needs a start and an end")
        if start and self.time_zone.data in _zones():
            try:
                self.window_in_utc()
            except (OverflowError, ValueError):
                return _l("Choose a window between the years 1 and 9999")
        return None

    def window_in_utc(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The window's local wall times converted to naive UTC."""
        zone = zoneinfo.ZoneInfo(self.time_zone.data)

        def to_utc(local):
            if local is None:
                return None
            return local.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
        return to_utc(self.window_start.data), to_utc(self.window_end.data)

    def fill_window_from(self, campaign) -> None:
        """Show a stored UTC window as local wall times in its zone."""
        zone = campaign.zone
        for field, value in ((self.window_start, campaign.window_start), (self.window_end, campaign.window_end)):
            if value is not None:
                field.data = value.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)


class ActionForm(Form):
    """A button that changes something: only the CSRF token and the action."""
    action = HiddenField()


class ForgotPasswordForm(Form):
    email = StringField(_l("Email"), filters=[strip],
                        validators=[DataRequired(_l("Enter your email address")), Length(max=320),
                                    NoControlCharacters()],
                        render_kw={"autocomplete": "username", "type": "email"})


class NewPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a password")),
        Length(min=MIN_PASSWORD_LENGTH, max=1000,
               message=_l("The password must be at least %(n)s characters long", n=MIN_PASSWORD_LENGTH))],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("The new password again"), validators=[
        DataRequired(_l("Enter the password again")),
        EqualTo("password", message=_l("The two passwords are not the same"))],
        render_kw={"autocomplete": "new-password"})


def _app_code_field(label):
    """Six digits from an authenticator app (spaces allowed, as apps show them)."""
    return StringField(label, filters=[strip, lambda v: "".join(v.split()) if isinstance(v, str) else v],
                       validators=[DataRequired(_l("Enter the 6-digit code from your app")),
                                   Regexp(r"^[0-9]{6}$", message=_l("Enter the 6 digits your app shows, like 123456"))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})


class LoginCodeForm(Form):
    """The second step of logging in: a code from the app, or a recovery code."""
    code = StringField(_l("Code from your authenticator app, or a recovery code"), filters=[strip],
                       validators=[DataRequired(_l("Enter the code from your app, or one of your recovery codes")),
                                   Length(max=40, message=_l("That is longer than any code we issue")),
                                   NoControlCharacters()],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"})


class EnableTwoFactorForm(Form):
    code = _app_code_field(_l("Code from your app"))


class RecoveryCodesForm(Form):
    code = _app_code_field(_l("Code from your app"))


class DisableTwoFactorForm(Form):
    password = PasswordField(_l("Your password"), validators=[
        DataRequired(_l("Enter your password")), Length(max=1000)], render_kw={"autocomplete": "current-password"})
    code = _app_code_field(_l("Code from your app"))


class InviteForm(Form):
    email = StringField(_l("Email"), filters=[strip],
                        validators=[DataRequired(_l("Enter an email address")), EmailAddress()],
                        render_kw={"autocomplete": "off", "type": "email"})
    as_admin = BooleanField(_l("Administrator (sees every campaign, manages organisers)"))


class MemberForm(Form):
    """An organiser's address: they become a member; an address with no
    account is invited."""
    email = StringField(_l("Organiser's email"), filters=[strip],
                        validators=[DataRequired(_l("Enter the organiser's email address")), Length(max=320),
                                    NoControlCharacters(), EmailAddress()])


class OrganiserForm(Form):
    email = StringField(_l("Email"), filters=[strip],
                        validators=[DataRequired(_l("Enter an email address")), EmailAddress()])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter a password")),
        Length(min=MIN_PASSWORD_LENGTH, max=1000,
               message=_l("The password must be at least %(n)s characters long", n=MIN_PASSWORD_LENGTH))],
        render_kw={"autocomplete": "new-password"})
    is_admin = BooleanField(_l("Administrator (sees every campaign, manages organisers)"))


class SearchForm(Form):
    """Searching changes nothing, so it is a GET without a CSRF token."""

    class Meta:
        csrf = False

    email_domain = StringField(_l("Email domain"), filters=[strip],
                               validators=[Optional(), Length(max=255), NoControlCharacters()])
    name = StringField(_l("Name contains"), filters=[strip],
                       validators=[Optional(), Length(max=100), NoControlCharacters()])
    since = DateTimeLocalField(_l("Signed from (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    until = DateTimeLocalField(_l("Signed before (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    ip = StringField(_l("IP address"), filters=[strip], validators=[Optional(), Length(max=64), NoControlCharacters()])
    ip_hash = StringField(_l("IP group"), filters=[strip],
                          validators=[Optional(), Length(max=64), NoControlCharacters()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data <= self.since.data:
            raise ValidationError(_l("The end of the time window must be after its start"))


class InvalidateForm(SearchForm):
    """The same criteria, posted with a token, a reason and a confirmation."""

    class Meta:
        csrf = True

    reason = StringField(_l("Reason"), filters=[strip], validators=[Optional(), Length(max=500), NoControlCharacters()])
    confirm = HiddenField()


def _id_or_none(value):
    """A select's value as an id; the empty choice is None."""
    return None if value in (None, "") else int(value)


class ActivityForm(Form):
    """The Activity page's filters (admins): reading changes nothing, so a
    GET without a CSRF token. The view gives the choices."""

    class Meta:
        csrf = False

    organiser = SelectField(_l("Organiser"), coerce=_id_or_none)
    campaign = SelectField(_l("Campaign"), coerce=_id_or_none)
    action = SelectField(_l("Action"), coerce=lambda value: value or None)
    since = DateField(_l("From (UTC)"), validators=[Optional()])
    until = DateField(_l("To (UTC), included"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The last day must not be before the first"))


class UpdateForm(Form):
    subject = StringField(_l("Subject"), filters=[strip], validators=[
        DataRequired(_l("Enter a subject")), Length(max=200, message=_l("The subject must be 200 characters or fewer")),
        NoControlCharacters()])
    body = TextAreaField(_l("Body"), validators=[
        DataRequired(_l("Write the update")),
        Length(max=50000, message=_l("The body must be 50,000 characters or fewer")), NoControlCharacters()],
        description=_l("Markdown. Each supporter is greeted by first name, and an unsubscribe link is added."))
    send_at = DateTimeLocalField(_l("Send at (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                 description=_l("Local time in the campaign's time zone; leave empty to send now."))

    def send_at_utc(self, zone) -> dt.datetime | None:
        if self.send_at.data is None:
            return None
        try:
            return self.send_at.data.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
        except (OverflowError, ValueError):  # year 1 or 9999 at the edge of UTC: long past or far off
            return dt.datetime.min if self.send_at.data.year < 5000 else dt.datetime.max


class QuestionForm(Form):
    """A question for the sign form; the questions service checks the rules."""
    label = StringField(_l("Question"), filters=[strip],
                        description=_l("What signers read, e.g. “Organisation” or “Are you a member?”"))
    kind = SelectField(_l("Type of answer"), choices=[
        SelectChoice(QuestionKind.TEXT.value, _l("Short text")),
        SelectChoice(QuestionKind.LONG.value, _l("Long text")),
        SelectChoice(QuestionKind.YESNO.value, _l("Yes or no")),
        SelectChoice(QuestionKind.CHOICE.value, _l("One choice from a list")),
    ], validate_choice=False)
    choices = TextAreaField(_l("Answers to choose from"),
                            description=_l("Only for “One choice from a list”: one answer a line, 2 to 20."))
    required = BooleanField(_l("Signers must answer it"))
    in_export = BooleanField(_l("Include the answers in the signer list export"), default=True)

    def choice_list(self) -> list[str]:
        return [line.strip() for line in (self.choices.data or "").splitlines() if line.strip()]
