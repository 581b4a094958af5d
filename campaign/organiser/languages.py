"""The Languages page of a campaign: which language its own text is
written in, and its translations into the site's other languages, each
beside the campaign's own words, with what is missing and a button to
publish it (or take it off the public pages). Member-only like the
campaign's other pages; every change is a POST with the session's CSRF
token and goes in the audit log. The translations service keeps the rules."""
from __future__ import annotations

from babel import Locale
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from .. import locales, translations
from ..form_base import Form
from ..models import Campaign, QuestionKind, SignQuestion
from .views import bp, member_campaign, posted_action, record_action


def language_name(language: str) -> str:
    """A language as an organiser reads it: in the page's language, and in
    itself when that differs (“Spanish (Español)”)."""
    here = Locale.parse(language).get_display_name(locales.page_language()) or language
    own = locales.NAMES.get(language, language)
    return here[:1].upper() + here[1:] if here.casefold() == own.casefold() else f"{here} ({own})"


class DefaultLanguageForm(Form):
    language = SelectField(
        _l("The campaign's own text is written in"), validate_choice=False,
        choices=lambda: [SelectChoice(language, language_name(language)) for language in locales.LANGUAGES],
        description=_l("Its pages without a language in their address show it. A language it has a published "
                       "translation into cannot be chosen: unpublish that first."))


class _Checked:
    """A field's value as the translations service would take it, or its
    message beside the field (every field is checked, not only the first)."""

    def __init__(self, check):
        self.check = check

    def __call__(self, form, field):
        try:
            field.data = self.check(field.data)
        except translations.TranslationError as refused:
            raise ValidationError(str(refused.message)) from None


def _text_field(campaign: Campaign, name: str, language: str):
    kind = TextAreaField if name in translations.MULTILINE else StringField
    rows = {"story": 12, "demands": max(3, len(campaign.demand_list) + 1)}.get(name, 3)
    render_kw = {"lang": language, "dir": locales.direction(language), "spellcheck": "true"}
    if kind is TextAreaField:
        render_kw["rows"] = rows
    return kind(translations.LABELS[name], render_kw=render_kw,
                validators=[_Checked(lambda value, name=name: translations.checked_text(campaign, name, value))])


def translation_form(campaign: Campaign, asked: list[SignQuestion], language: str, formdata=None, data=None):
    """The form of one translation: a field for each of the campaign's
    fields a translation needs (see translations.required_fields), then a
    label (and its answers, one a line) for each question of the sign form."""
    fields = {name: _text_field(campaign, name, language) for name in translations.required_fields(campaign)}
    for number, question in enumerate(asked, 1):
        def check(value, question=question):
            return translations.checked_question(question, value, ())[0]

        fields[translations.label_field(question)] = StringField(
            _l("Question %(n)s", n=number), validators=[_Checked(check)],
            render_kw={"lang": language, "dir": locales.direction(language)})
        if question.kind == QuestionKind.CHOICE:
            def check_choices(value, question=question):
                lines = (value or "").splitlines()
                return "\n".join(translations.checked_question(question, "", lines)[1])

            fields[translations.choices_field(question)] = TextAreaField(
                _l("The answers to question %(n)s, one a line", n=number), validators=[_Checked(check_choices)],
                render_kw={"lang": language, "dir": locales.direction(language),
                           "rows": len(question.choices or ()) + 1})
    form_class = type("TranslationForm", (Form,), fields)
    return form_class(formdata=formdata, data=data) if formdata is not None else form_class(data=data)


def _stored_values(campaign: Campaign, asked: list[SignQuestion], language: str) -> dict:
    """What the form shows before any change: the translation as stored."""
    row = translations.translation_of(campaign, language)
    values = {name: getattr(row, name) or "" for name in translations.FIELDS} if row is not None else {}
    for question in asked:
        entry = (question.translations or {}).get(language) or {}
        values[translations.label_field(question)] = entry.get("label", "")
        values[translations.choices_field(question)] = "\n".join(entry.get("choices") or ())
    return values


def _language(campaign: Campaign, language: str) -> str:
    """A language the campaign can be translated into, or 404."""
    if language not in translations.other_languages(campaign):
        abort(404)
    return language


def _overview(campaign: Campaign, form: DefaultLanguageForm, status: int = 200):
    rows = [{"language": language, "name": language_name(language),
             "published": language in (campaign.published_languages or ()),
             "started": translations.translation_of(campaign, language) is not None,
             "missing": len(translations.missing_fields(campaign, language))}
            for language in translations.other_languages(campaign)]
    return render_template("organiser/languages.html", campaign=campaign, form=form, rows=rows,
                           default_name=language_name(campaign.default_language)), status


@bp.route("/c/<slug>/languages", methods=["GET", "POST"])
@member_campaign
def campaign_languages(campaign: Campaign):
    """The campaign's languages: the one it is written in, and each
    translation's state (published or not, what it lacks)."""
    form = DefaultLanguageForm(data=None if request.method == "POST" else {"language": campaign.default_language})
    if form.validate_on_submit():
        was = campaign.default_language
        try:
            if form.language.data != was:
                record_action("campaign.language", campaign, {"language": form.language.data, "from": was})
            translations.set_default_language(campaign, form.language.data or "")
        except translations.TranslationError as refused:
            form.language.errors = [refused.message]
            return _overview(campaign, form, 422)
        flash(_("The campaign is written in %(language)s.", language=language_name(campaign.default_language)))
        return redirect(url_for(".campaign_languages", slug=campaign.slug), 303)
    return _overview(campaign, form, 422 if form.errors else 200)


def _questions_shown(campaign: Campaign, asked: list[SignQuestion]) -> list[dict]:
    return [{"question": question, "label_field": translations.label_field(question),
             "choices_field": translations.choices_field(question) if question.kind == QuestionKind.CHOICE else None}
            for question in asked]


def _translation_page(campaign: Campaign, language: str, form, asked: list[SignQuestion], status: int = 200,
                      error: str | None = None):
    missing = translations.missing_fields(campaign, language)
    names = {field.name: field.label.text for field in form if field.type != "CSRFTokenField"}
    return render_template(
        "organiser/translation.html", campaign=campaign, language=language, name=language_name(language),
        default_language=campaign.default_language, default_name=language_name(campaign.default_language),
        direction=locales.direction(language), default_direction=locales.direction(campaign.default_language),
        form=form, questions=_questions_shown(campaign, asked), missing=[(name, names.get(name, name))
                                                                         for name in missing],
        published=language in (campaign.published_languages or ()), error=error,
        public_address=_public_address(campaign, language)), status


def _public_address(campaign: Campaign, language: str) -> str:
    """Where the public reads the campaign in ``language``: its address with
    the language's segment, on this site (see locales)."""
    root = request.environ.get(locales.SITE_ROOT, request.script_root).rstrip("/")
    return f"{root}/{language}" + url_for("public.campaign_page", slug=campaign.slug, _external=False)[
        len(request.script_root):]


@bp.route("/c/<slug>/languages/<language>", methods=["GET", "POST"])
@member_campaign
def campaign_translation(campaign: Campaign, language: str):
    """One translation, each field beside the campaign's own words."""
    language = _language(campaign, language)
    asked = translations.questions_to_translate(campaign.id)
    if request.method == "GET":
        form = translation_form(campaign, asked, language, data=_stored_values(campaign, asked, language))
        return _translation_page(campaign, language, form, asked)
    form = translation_form(campaign, asked, language, formdata=request.form)
    if form.validate():
        texts = {name: form[name].data for name in translations.required_fields(campaign)}
        question_texts = {q.id: (form[translations.label_field(q)].data or "",
                                 (form[translations.choices_field(q)].data or "").splitlines()
                                 if q.kind == QuestionKind.CHOICE else [])
                          for q in asked}
        try:
            record_action("translation.saved", campaign, {"language": language})
            translations.save_translation(campaign, language, texts, question_texts)
        except translations.TranslationError as refused:
            if refused.field in form:
                form[refused.field].errors = [refused.message]
            else:
                return _translation_page(campaign, language, form, asked, 422, str(refused.message))
        else:
            flash(_("Translation saved: %(language)s.", language=language_name(language)))
            return redirect(url_for(".campaign_translation", slug=campaign.slug, language=language), 303)
    return _translation_page(campaign, language, form, asked, 422)


@bp.post("/c/<slug>/languages/<language>/publication")
@member_campaign
def translation_publication(campaign: Campaign, language: str):
    """Publish a translation (refused while anything is missing), or take
    it off the public pages."""
    language = _language(campaign, language)
    action = posted_action(("publish", "unpublish"))
    if action == "unpublish":
        record_action("translation.unpublished", campaign, {"language": language})
        translations.unpublish(campaign, language)
        flash(_("%(language)s is no longer shown to the public.", language=language_name(language)))
        return redirect(url_for(".campaign_translation", slug=campaign.slug, language=language), 303)
    try:
        record_action("translation.published", campaign, {"language": language})
        translations.publish(campaign, language)
    except translations.TranslationError as refused:
        asked = translations.questions_to_translate(campaign.id)
        form = translation_form(campaign, asked, language, data=_stored_values(campaign, asked, language))
        return _translation_page(campaign, language, form, asked, 422, str(refused.message))
    flash(_("Published: the public can now read the campaign in %(language)s.", language=language_name(language)))
    return redirect(url_for(".campaign_translation", slug=campaign.slug, language=language), 303)
