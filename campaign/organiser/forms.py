"""The organisers' forms."""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import cache

from babel import Locale
from flask_babel import get_locale
from flask_babel import gettext as _
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
from ..models import Kind, QuestionKind, WindowMode
from ..organisers import MIN_PASSWORD_LENGTH
from ..validation import EmailAddress, has_control_characters, strip
from ..windows import local_span

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A campaign's own retention period: at least a day, so that closing by
# mistake can be undone before anything is anonymised; at most ten years.
MIN_RETENTION_DAYS, MAX_RETENTION_DAYS = 1, 3650


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
    asks_date = BooleanField(_l("Ask signers for the date they will start (pledges only)"))
    date_question = StringField(_l("The date question"), filters=[strip], validators=[
        Length(max=200, message=_l("The date question must be 200 characters or fewer")), NoControlCharacters()],
        description=_l("How the sign form labels the date, e.g. “I will log off from”."))
    asks_reason = BooleanField(_l("Ask signers why they pledge; show approved reasons on the page (pledges only)"))
    share_text = StringField(_l("Share text"), filters=[strip], validators=[
        Length(max=280, message=_l("The share text must be 280 characters or fewer")), NoControlCharacters()])
    next_action = TextAreaField(_l("Next action after the window"), filters=[strip], validators=[
        Length(max=2000, message=_l("The next action must be 2,000 characters or fewer")), NoControlCharacters()])
    image = FileField(_l("Image"), description=_l("PNG, JPEG, GIF or WebP, at most 2 MB and 4000 x 4000 pixels."))
    # A freeze's follow-through (see models.Campaign).
    window_mode = SelectField(_l("The window is"), choices=[
        SelectChoice(WindowMode.GLOBAL.value, _l("One window for everyone (the times above, in the chosen time zone)")),
        SelectChoice(WindowMode.LOCAL.value, _l("The same local hours in every time zone (freezes only)")),
    ], default=WindowMode.GLOBAL.value, validate_choice=False,
        description=_l("With the same local hours, each signer's freeze runs from the start to the end time in "
                       "their own time zone, as Earth Hour does."))
    statement = TextAreaField(_l("The statement to post (freezes)"), filters=[strip], validators=[
        Length(max=1000, message=_l("The statement must be 1,000 characters or fewer")), NoControlCharacters()],
        description=_l("What signers post once before going quiet. The page shows it with a copy button, and "
                       "the reminder emails carry it."))
    check_in_email = BooleanField(_l("After the freeze, ask signers who wanted reminders whether they took part"),
                                  description=_l("The answers are the only count of who took part: the page shows "
                                                 "it once the freeze has ended, and the dashboard the rate."))
    # Text, not IntegerField: its own messages say what is wrong, in words
    # an organiser reads (see retention_days_value).
    retention_days = StringField(
        _l("Days to keep signers’ details after the campaign closes"), filters=[strip],
        render_kw={"inputmode": "numeric", "size": 6},
        description=_l("Then every signature is anonymised: names, email addresses, postcodes, answers and "
                       "reasons are removed; the country, the day and every count stay."))

    def validate_kind(self, field):
        if field.data not in {k.value for k in Kind}:
            raise ValidationError(_l("Choose the kind of campaign"))

    def validate_slug(self, field):
        if field.data and not SLUG.match(field.data):
            raise ValidationError(_l("Use only lower-case letters, numbers and single hyphens"))

    def validate_time_zone(self, field):
        if field.data not in _zones():
            raise ValidationError(_l("Choose a time zone from the list"))

    def validate_window_mode(self, field):
        if field.data not in {m.value for m in WindowMode}:
            raise ValidationError(_l("Choose how the window applies"))

    def validate_retention_days(self, field):
        text = self._retention_text()
        if not text:
            return
        if not re.fullmatch(r"-?[0-9]+", text):
            raise ValidationError(_l("Enter the number of days as a whole number, like 180"))
        # The length first: int() refuses thousands of digits with an error.
        if len(text) > 12 or not MIN_RETENTION_DAYS <= int(text) <= MAX_RETENTION_DAYS:
            raise ValidationError(_l("Keep them between 1 and 3,650 days (ten years)"))

    def _retention_text(self) -> str:
        # A form posted without the field keeps the campaign's own value (an int).
        data = self.retention_days.data
        return "" if data is None else str(data).strip()

    def retention_days_value(self) -> int | None:
        """The days to keep, or None for the site's default (left empty)."""
        text = self._retention_text()
        return int(text) if text else None

    @property
    def local_hours(self) -> bool:
        return self.kind.data == Kind.FREEZE and self.window_mode.data == WindowMode.LOCAL

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
        """The window's local wall times converted to naive UTC; for the
        same local hours everywhere, the span from their first start to
        their last end (see windows)."""
        if self.local_hours and self.window_start.data and self.window_end.data:
            return local_span(self.window_start.data, self.window_end.data)
        zone = zoneinfo.ZoneInfo(self.time_zone.data)

        def to_utc(local):
            if local is None:
                return None
            return local.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)
        return to_utc(self.window_start.data), to_utc(self.window_end.data)

    def freeze_fields(self) -> dict:
        """A freeze's follow-through, as the campaign stores it."""
        local = self.local_hours and self.window_start.data is not None
        return {"statement": self.statement.data or "", "check_in_email": self.check_in_email.data,
                "window_mode": WindowMode.LOCAL.value if local else WindowMode.GLOBAL.value,
                "local_start": self.window_start.data if local else None,
                "local_end": self.window_end.data if local else None}

    def fill_window_from(self, campaign) -> None:
        """Show a stored UTC window as local wall times in its zone (the
        wall-clock hours themselves, for the same hours everywhere)."""
        if campaign.local_hours:
            self.window_start.data, self.window_end.data = campaign.local_start, campaign.local_end
            return
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


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


class SiteForm(Form):
    """The settings every page shows (see site_settings)."""
    site_name = StringField(_l("Site name"), filters=[strip], validators=[
        Length(max=80, message=_l("The site name must be 80 characters or fewer")), NoControlCharacters()],
        description=_l("In every page’s title and in emails. Empty: the name set when the site was installed."))
    logo_text = StringField(_l("Logo text"), filters=[strip], validators=[
        Length(max=40, message=_l("The logo text must be 40 characters or fewer")), NoControlCharacters()],
        description=_l("At the top of every page. Empty: the site name."))
    favicon_text = StringField(_l("Icon letters"), filters=[strip], validators=[
        Length(max=2, message=_l("The icon holds at most 2 characters")), NoControlCharacters()],
        description=_l("One or two characters drawn on the browser tab’s icon. Empty: the logo text’s first letter."))
    accent_colour = StringField(_l("Icon colour"), filters=[strip, lambda v: v.lower() if isinstance(v, str) else v],
                                validators=[DataRequired(_l("Enter a colour like #1d4f91")),
                                            Regexp(r"^#[0-9a-f]{6}$", message=_l("Enter a colour like #1d4f91"))],
                                render_kw={"spellcheck": "false"})
    organiser_name = StringField(_l("Who runs the site"), filters=[strip], validators=[
        Length(max=200, message=_l("This must be 200 characters or fewer")), NoControlCharacters()],
        description=_l("Shown in every page’s footer and the privacy notice, e.g. “The Fair Feeds coalition”."))
    contact_email = StringField(_l("Contact address"), filters=[strip], validators=[Optional(), EmailAddress()],
                                description=_l("Public: for supporters’ questions and requests about their data."),
                                render_kw={"type": "email"})
    privacy_url = StringField(_l("Privacy notice address"), filters=[strip], validators=[
        Optional(), Length(max=300, message=_l("The address must be 300 characters or fewer"))],
        description=_l("Empty: this site’s own privacy notice. Or the address of your organisation’s, "
                       "starting with https://."), render_kw={"inputmode": "url"})

    privacy_notice = TextAreaField(
        _l("Your own privacy notice"),
        filters=[lambda v: v.replace("\r\n", "\n").strip() if isinstance(v, str) else v],
        validators=[Length(max=20_000, message=_l("The privacy notice must be 20,000 characters or fewer")),
                    NoControlCharacters()],
        description=_l("Markdown, shown at /privacy in place of the notice this site writes for you from what it "
                       "does. Say what you collect, why, for how long, who sees it and how to have it removed. "
                       "Empty: the site’s own notice."),
        render_kw={"rows": 12})

    def validate_accent_colour(self, field):
        if re.fullmatch(r"#[0-9a-f]{6}", field.data or "") and (1.05 / (_luminance(field.data) + 0.05)) < 4.5:
            raise ValidationError(_l("Choose a darker colour: white letters on it must be easy to read"))

    def validate_privacy_url(self, field):
        value = field.data or ""
        if has_control_characters(value) or " " in value or not re.match(r"^https?://[^/\s]+\.[^/\s]+", value):
            raise ValidationError(_l("Enter an address starting with https://, like https://example.org/privacy"))


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

    # The campaign's other languages, as (code, name): see update_form_class.
    languages: tuple[tuple[str, str], ...] = ()

    def validate(self, extra_validators=None) -> bool:
        """The fields' own rules, then: a version in another language is
        both a subject and a body, or neither."""
        valid = super().validate(extra_validators)
        for code, name in self.languages:
            subject, body = self[f"subject_{code}"], self[f"body_{code}"]
            has_subject, has_body = bool(subject.data), bool((body.data or "").strip())
            if has_subject and not has_body and not body.errors:
                body.errors = [*body.errors, _("Write the update in %(language)s too, or leave its subject empty",
                                               language=name)]
                valid = False
            elif has_body and not has_subject and not subject.errors:
                subject.errors = [*subject.errors, _("Enter a subject in %(language)s too, or leave its body empty",
                                                     language=name)]
                valid = False
        return valid

    def translations(self) -> dict[str, dict[str, str]] | None:
        """The versions written in other languages, as
        CampaignUpdate.translations keeps them; None if there are none."""
        versions = {code: {"subject": self[f"subject_{code}"].data, "body": self[f"body_{code}"].data}
                    for code, _name in self.languages
                    if self[f"subject_{code}"].data and (self[f"body_{code}"].data or "").strip()}
        return versions or None


def language_name(code: str) -> str:
    """A language's name in the language of the page."""
    return Locale.parse(code).get_display_name(str(get_locale())) or code


def update_form_class(campaign) -> type[UpdateForm]:
    """The update form of ``campaign``: its default language's subject and
    body, and an optional subject and body in each of its published
    languages (by the same rules), for supporters who signed in it."""
    languages = tuple((code, language_name(code)) for code in campaign.published_languages or ()
                      if code != campaign.default_language)

    class CampaignUpdateForm(UpdateForm):
        pass

    CampaignUpdateForm.languages = languages
    for code, name in languages:
        # What is typed in a language is marked as being in it (spelling, direction).
        typed_in = {"lang": code, "dir": "auto"}
        setattr(CampaignUpdateForm, f"subject_{code}", StringField(
            _("Subject in %(language)s", language=name), filters=[strip], render_kw=typed_in, validators=[
                Length(max=200, message=_l("The subject must be 200 characters or fewer")), NoControlCharacters()]))
        setattr(CampaignUpdateForm, f"body_{code}", TextAreaField(
            _("Body in %(language)s", language=name), render_kw=typed_in, validators=[
                Length(max=50000, message=_l("The body must be 50,000 characters or fewer")), NoControlCharacters()]))
    return CampaignUpdateForm


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
