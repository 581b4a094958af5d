"""The public forms: signing a pledge, a business joining a boycott,
confirming, and asking for the confirmation email again."""
import datetime as dt
from functools import lru_cache
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import BooleanField, DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import Select, html_params

from . import countries, formats, time_zones, translations
from .form_base import Form
from .locales import page_language
from .models import CompanySize, QuestionKind, utcnow
from .pause_forms import PausePeriod, pause_fields
from .questions import Question
from .shared_pages import PageCSRF
from .signing import PledgeAsks
from .validation import EmailAddress, PlainName, has_control_characters, looks_like_link, strip


def _country_choices(language: str | None = None):
    """The country select's choices: the names in ``language`` (the page's),
    sorted for it (see countries); the value is always the ISO code."""
    return [SelectChoice("", _l("Choose your country"))] + [
        SelectChoice(code, name) for code, name in countries.choices(language)
    ]


@lru_cache(maxsize=32)
def _country_options(language: str) -> str:
    # Rendered in the language it is keyed by (the lazy "Choose your country" too).
    return "".join(Select.render_option(Choice(c.value, c.label, False, c.render_kw))
                   for c in _country_choices(language))


class CountrySelect(Select):
    """WTForms' select, with the 250 country options rendered once per
    language (they were half of a campaign page's render time) and the
    chosen one marked each time: the same HTML, a string replace."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        options = _country_options(page_language())
        chosen = field.data
        if chosen == "" or countries.is_country(chosen):
            options = options.replace(f'<option value="{chosen}">', f'<option selected value="{chosen}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class CountryCode:
    def __call__(self, form, field):
        if not countries.is_country(field.data):
            raise ValidationError(_l("Choose your country from the list"))


class TimeZoneName:
    """One of the zones we know (see time_zones), by its exact name."""

    def __call__(self, form, field):
        value = field.data if isinstance(field.data, str) else ""
        if has_control_characters(value):
            raise ValidationError(_l("The time zone contains characters we cannot accept"))
        if len(value) > time_zones.LONGEST_NAME:
            raise ValidationError(_l("Choose a time zone from the list: that name is too long"))
        if not time_zones.is_zone(value):
            raise ValidationError(_l("Choose a time zone from the list"))


class PublicForm(Form):
    """A form on a page that shared caches may keep: see shared_pages."""

    class Meta:
        csrf_class = PageCSRF


class SignForm(PublicForm):
    given_name = StringField(
        _l("First name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your first name")),
            Length(max=100, message=_l("First name must be 100 characters or fewer")),
            PlainName(_l("First name")),
        ],
        render_kw={"autocomplete": "given-name"},
    )
    family_name = StringField(
        _l("Last name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your last name")),
            Length(max=100, message=_l("Last name must be 100 characters or fewer")),
            PlainName(_l("Last name")),
        ],
        render_kw={"autocomplete": "family-name"},
    )
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter your email address")), EmailAddress()],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"},
    )
    country = SelectField(
        _l("Country"),
        choices=_country_choices,
        validate_choice=False,
        validators=[CountryCode()],
        widget=CountrySelect(),
        render_kw={"autocomplete": "country"},
    )
    postal_code = StringField(
        _l("Postcode"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=16, message=_l("Postcode must be 16 characters or fewer")),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9 -]*$",
                message=_l("Enter a postcode using letters, numbers, spaces and hyphens"),
            ),
        ],
        render_kw={"autocomplete": "postal-code"},
    )
    email_opt_in = BooleanField(_l("Email me updates about this campaign"), default=False)
    show_name = BooleanField(_l("Show my first name on the public list"), default=False)
    # A freeze's: the browser's time zone (filled by static/js/site.js; a
    # name we do not know is ignored and the country's zone used instead),
    # and consent to its reminder emails.
    time_zone = HiddenField(filters=[strip], validators=[Optional(), Length(max=time_zones.LONGEST_NAME)])
    reminder_opt_in = BooleanField(_l("Email me a reminder the day before and when it starts"), default=False)
    # Honeypot: hidden from people, tempting to bots. Filled means discard.
    homepage = StringField(_l("Leave this field empty"))

    def __init__(self, *args, postcode_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.postcode_required = postcode_required
        if postcode_required:
            self.postal_code.validators = [
                DataRequired(_l("Enter your postcode")),
                *self.postal_code.validators[1:],
            ]
            self.postal_code.flags.required = True

    @property
    def is_bot(self) -> bool:
        return bool((self.homepage.data or "").strip())

    # The campaign's own questions: see sign_form_class.
    questions: tuple[Question, ...] = ()

    def question_fields(self) -> list:
        return [self[q.field_name] for q in self.questions]

    def answers(self) -> dict[str, str]:
        """{str(question id): answer} of the questions answered."""
        return {str(q.id): self[q.field_name].data for q in self.questions if self[q.field_name].data}


# --- The campaign's own questions ---------------------------------------------

_TEXT_LIMITS = {QuestionKind.TEXT: 200, QuestionKind.LONG: 2000}
_YES_NO = (SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No")))


class Answer:
    """The rules of every answer: required or not, within its limit, free
    of control characters, and one of the offered answers where there are
    some. Messages name the question by its label."""

    def __init__(self, question: Question, label: str | None = None):
        self.question = question
        # Templates take a lazy message as safe HTML, so the organiser's
        # label (as the page shows it) is escaped before it goes in.
        self.label = escape(label or question.label)
        self.field_flags = {"required": question.required}

    def __call__(self, form, field):
        question, label = self.question, self.label
        value = (field.data or "").strip()
        if question.kind == QuestionKind.LONG:  # browsers send CRLF; count a line break once
            value = value.replace("\r\n", "\n")
        field.data = value
        if not value:
            if question.required:
                raise ValidationError(_l("Answer “%(label)s”", label=label))
            return
        limit = _TEXT_LIMITS.get(question.kind)
        if limit and len(value) > limit:
            raise ValidationError(_l("The answer to “%(label)s” must be %(n)s characters or fewer",
                                     label=label, n=formats.number(limit)))
        if question.kind == QuestionKind.YESNO and value not in ("yes", "no"):
            raise ValidationError(_l("Answer “%(label)s” with yes or no", label=label))
        if question.kind == QuestionKind.CHOICE and value not in question.choices:
            raise ValidationError(_l("Choose an answer to “%(label)s” from the list", label=label))
        # A paragraph may have line breaks and tabs; a line of text may not.
        checked = value.replace("\r", "").replace("\n", "").replace("\t", "") if question.kind == QuestionKind.LONG \
            else value
        if has_control_characters(checked):
            raise ValidationError(_l("The answer to “%(label)s” contains characters we cannot accept", label=label))


def _question_field(question: Question, language: str | None = None):
    """The field of a question, labelled as a page in ``language`` shows it
    (see translations); a choice's value is the question's own choice, so
    the answer stored is the same in every language."""
    label = translations.question_label(question, language)
    rules = {"label": label, "validators": [Answer(question, label)]}
    if question.kind == QuestionKind.LONG:
        return TextAreaField(**rules)
    if question.kind == QuestionKind.YESNO:
        return RadioField(choices=list(_YES_NO), validate_choice=False, **rules)
    if question.kind == QuestionKind.CHOICE:
        shown = translations.question_choices(question, language)
        return SelectField(choices=[SelectChoice("", _l("Choose an answer"))]
                           + [SelectChoice(value, text) for value, text in zip(question.choices, shown, strict=True)],
                           validate_choice=False, **rules)
    return StringField(**rules)


# --- Pledge follow-through: the date and the reason ----------------------------------

REASON_MAX = 500
# How far ahead a pledge's date may be.
PLEDGE_DATE_MAX_DAYS = 366


class PledgeDateField(DateField):
    """A date picker (a text box of YYYY-MM-DD where browsers have none),
    with a message a person understands when the date cannot be read."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter the date as year, month and day, like 2027-03-01")) from None


class PledgeDate:
    """From yesterday (it is already tomorrow somewhere) to a year ahead."""

    def __call__(self, form, field):
        if field.data is None:
            return
        today = utcnow().date()
        if field.data < today - dt.timedelta(days=1):
            raise ValidationError(_l("Choose today or a later date"))
        if field.data > today + dt.timedelta(days=PLEDGE_DATE_MAX_DAYS):
            raise ValidationError(_l("Choose a date within the next year"))


class Reason:
    """A reason in the signer's own words: plain text, no web addresses
    (it may be shown publicly), within REASON_MAX characters."""

    def __call__(self, form, field):
        value = (field.data or "").replace("\r\n", "\n").strip()
        field.data = value
        if not value:
            return
        if len(value) > REASON_MAX:
            raise ValidationError(_l("Your reason must be %(n)s characters or fewer", n=REASON_MAX))
        if has_control_characters(value.replace("\n", "").replace("\t", "")):
            raise ValidationError(_l("Your reason contains characters we cannot accept"))
        if looks_like_link(value):
            raise ValidationError(_l("Your reason must not contain a web address"))


def _pledge_date_field(label: str, required: bool):
    # InputRequired, not DataRequired: that would hide why a typed date could not be read.
    first = InputRequired(_l("Enter the date you will start")) if required else Optional()
    return PledgeDateField(label or _l("The date I will start"), validators=[first, PledgeDate()])


def _reason_fields() -> dict:
    return {
        "reason": TextAreaField(_l("Why are you pledging?"), validators=[Reason()],
                                render_kw={"maxlength": REASON_MAX, "rows": 3}),
        "reason_public": BooleanField(_l("Show my reason on this page (we read it first)"), default=False),
    }


@lru_cache(maxsize=512)
def sign_form_class(questions: tuple[Question, ...] = (), asks: PledgeAsks | None = None,
                    language: str | None = None) -> type[SignForm]:
    """The sign form of a campaign: the built-in fields, then a field for
    each of its questions, validated like the rest, then what a pledge asks
    (a date, a reason). The questions are labelled in ``language`` (the
    campaign's, see translations.language_of; asks carries the date
    question in it). Built once per set of questions, asks and language
    (they are frozen, so equal sets share a class)."""
    if not questions and asks is None:
        return SignForm
    fields = {q.field_name: _question_field(q, language) for q in questions}
    if asks is not None and asks.date_question is not None:
        fields["pledge_date"] = _pledge_date_field(asks.date_question, required=True)
    if asks is not None and asks.reason:
        fields.update(_reason_fields())
    return type("CampaignSignForm", (SignForm,), {**fields, "questions": questions})


def pledge_details(form) -> dict:
    """The date and reason a sign or confirm form holds (none if it asks none)."""
    reason = form.reason.data if "reason" in form else None
    return {"pledge_date": form.pledge_date.data if "pledge_date" in form else None,
            "reason": reason or None,
            "reason_public": bool(reason and form.reason_public.data)}


class BusinessForm(PausePeriod, PublicForm):
    organisation = StringField(
        _l("Organisation"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the name of your organisation")),
            Length(max=200, message=_l("Organisation must be 200 characters or fewer")),
            PlainName(_l("Organisation"), allow_domain_names=True),
        ],
        render_kw={"autocomplete": "organization"},
    )
    website = StringField(
        _l("Website"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your organisation's website")),
            Length(max=300, message=_l("Website must be 300 characters or fewer")),
        ],
        render_kw={"autocomplete": "url", "inputmode": "url"},
    )
    contact_email = StringField(
        _l("Contact email"),
        filters=[strip],
        validators=[DataRequired(_l("Enter a contact email address")), EmailAddress()],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    company_size = SelectField(
        _l("Company size"),
        choices=[SelectChoice("", _l("Choose a size"))]
        + [SelectChoice(s.value, _l("%(n)s people", n=s.value)) for s in CompanySize],
        validate_choice=False,
    )
    pause_start, pause_end = pause_fields()
    homepage = StringField(_l("Leave this field empty"))

    def validate_website(self, field):
        value = field.data or ""
        if has_control_characters(value) or " " in value:
            raise ValidationError(_l("Enter a website address like https://example.com"))
        if "://" not in value:
            value = "https://" + value
        try:
            parts = urlsplit(value)
            host = parts.hostname or ""
        except ValueError:
            parts, host = None, ""
        if parts is None or parts.scheme not in ("http", "https") or "." not in host:
            raise ValidationError(_l("Enter a website address like https://example.com"))
        field.data = value

    def validate_company_size(self, field):
        if field.data not in {s.value for s in CompanySize}:
            raise ValidationError(_l("Choose the size of your organisation"))

    @property
    def is_bot(self) -> bool:
        return bool((self.homepage.data or "").strip())


class ConfirmForm(PublicForm):
    """Only a POST confirms: mail scanners follow GET links. No session
    either: confirming from the emailed link needs no cookie. The person
    who confirms sees what will be recorded (as the last signing left it)
    and may change it: their choices are the ones that count."""
    given_name = SignForm.given_name
    family_name = SignForm.family_name
    country = SignForm.country
    email_opt_in = SignForm.email_opt_in
    show_name = SignForm.show_name
    # Shown for a freeze only; a form without them keeps the zone and turns reminders off.
    time_zone = SelectField(_l("Your time zone"), choices=lambda: [SelectChoice("", _l("Choose your time zone"))] + [
                                SelectChoice(z, z.replace("_", " ")) for z in time_zones.choices()],
                            validate_choice=False, validators=[Optional(), TimeZoneName()],
                            description=_l("Reminders come at the start of the freeze in this zone."))
    reminder_opt_in = SignForm.reminder_opt_in


# A confirm POST is read before its campaign is known: a form with every
# follow-through field, none required (what a form without them sends).
ANY_ASKS = PledgeAsks("", True)


@lru_cache(maxsize=64)
def confirm_form_class(asks: PledgeAsks | None = None) -> type[ConfirmForm]:
    """The confirm form, with the date and reason where the campaign asks
    them: the confirmer sees them, and may change or remove them."""
    if asks is None:
        return ConfirmForm
    fields = {}
    if asks.date_question is not None:
        fields["pledge_date"] = _pledge_date_field(asks.date_question, required=asks is not ANY_ASKS)
    if asks.reason:
        fields.update(_reason_fields())
    return type("CampaignConfirmForm", (ConfirmForm,), fields)


class ResendForm(PublicForm):
    """The thank-you page's "send the email again" button: the token names
    the campaign and the address just signed with (see tokens.resend_token)."""
    token = HiddenField(validators=[DataRequired(), Length(max=2000)])
