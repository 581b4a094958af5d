"""A campaign's text in each of its languages, and the rules for adding one.

A campaign is written in its default language (``Campaign.default_language``:
its own title, story, pledge and the rest). Each other language has a
``CampaignTranslation`` of those fields and, for each question of the sign
form, a label and choices in ``SignQuestion.translations``. The public sees
a language only once an organiser has published it, and only a translation
with nothing missing can be published (``missing_fields``), so a visitor
reads a campaign wholly in one language: a page asked for in any other
language is the default one (``language_of``). A field the campaign gains
after publishing (a new question, a statement) shows in the default
language until it is translated, and the Languages page lists it as missing.

What is shown is translated, what is stored is not: a signer's answer to a
choice question is the default language's choice, so answers and exports
compare across languages.

Pages read a translation when they are built, once per campaign edition and
language (see campaign_page), and every change here raises the edition (the
events at the end of models). What a sign POST or an email needs is kept
per process by campaign, edition and language (``campaign_text``). The
services here own their commits. The email kinds read ``campaign_text``
too, which is why this module sits in the base layer."""
from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from cachetools import LRUCache
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .locales import LANGUAGES
from .models import Campaign, CampaignTranslation, Kind, QuestionKind, SignQuestion, utcnow
from .validation import has_control_characters

FIELDS = ("title", "summary", "story", "pledge_text", "demands", "share_text", "statement", "next_action",
          "date_question")
# The longest each may be: the column's length, or for a text column the
# campaign form's limit for the same field.
LIMITS = {"title": 200, "summary": 500, "story": 20000, "pledge_text": 2000, "demands": 5000, "share_text": 280,
          "statement": 1000, "next_action": 2000, "date_question": 200}
# What each is called, and what is said of one too long (the campaign form's words).
LABELS = {
    "title": _l("Title"), "summary": _l("Summary"), "story": _l("Story"), "pledge_text": _l("Pledge text"),
    "demands": _l("Demands"), "share_text": _l("Share text"), "statement": _l("The statement to post (freezes)"),
    "next_action": _l("Next action after the window"), "date_question": _l("The date question"),
}
TOO_LONG = {
    "title": _l("The title must be 200 characters or fewer"),
    "summary": _l("The summary must be 500 characters or fewer"),
    "story": _l("The story must be 20,000 characters or fewer"),
    "pledge_text": _l("The pledge text must be 2,000 characters or fewer"),
    "demands": _l("The demands must be 5,000 characters or fewer"),
    "share_text": _l("The share text must be 280 characters or fewer"),
    "statement": _l("The statement must be 1,000 characters or fewer"),
    "next_action": _l("The next action must be 2,000 characters or fewer"),
    "date_question": _l("The date question must be 200 characters or fewer"),
}
# Fields of several lines (line breaks and tabs allowed); the others are one line.
MULTILINE = frozenset({"story", "pledge_text", "demands", "statement", "next_action"})
# A question's label and each of its choices, as questions.py limits them.
MAX_LABEL, MAX_CHOICE = 200, 100


@dataclass(frozen=True)
class CampaignText:
    """Every field of a campaign a person reads, in one language."""
    title: str
    summary: str
    story: str
    pledge_text: str
    demands: str
    share_text: str
    statement: str
    next_action: str
    date_question: str

    @property
    def demand_list(self) -> list[str]:
        return demand_lines(self.demands)


def demand_lines(demands: str) -> list[str]:
    """The demands, one a line, as the page lists them (see Campaign.demand_list)."""
    return [line.strip() for line in (demands or "").splitlines() if line.strip()]


class TranslationError(ValueError):
    """A change the rules refuse; ``field`` names the field concerned (a
    name of FIELDS, ``question_<id>``, ``question_<id>_choices``, or
    ``language``) and the message is ready to show."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field
        self.message = message


# --- Reading: which language, and the text in it ------------------------------------

def language_of(campaign, requested: str | None) -> str:
    """``requested`` if ``campaign`` speaks it (its default language, or a
    published one), else its default language. ``campaign``: anything with
    ``default_language`` and ``published_languages``."""
    if requested and (requested == campaign.default_language or requested in (campaign.published_languages or ())):
        return requested
    return campaign.default_language


def page_languages(campaign) -> list[str]:
    """The languages the public may read ``campaign`` in: its default, then
    the published ones in the site's order (for the language switcher)."""
    published = set(campaign.published_languages or ())
    return [campaign.default_language] + [language for language in LANGUAGES
                                          if language in published and language != campaign.default_language]


def _kept() -> LRUCache:
    """Translations read, by (campaign id, edition, language), per app: an
    edition is never changed once passed, so what was read for it stays right."""
    return current_app.extensions.setdefault("campaign_translations", LRUCache(maxsize=2048))


_lock = threading.Lock()


def _stored(campaign_id: int, edition: int | None, language: str) -> tuple[str, ...] | None:
    """The stored translation's fields (in FIELDS order), or None if there is none."""
    key = (campaign_id, edition, language)
    if edition is not None:
        with _lock:
            found = _kept().get(key, False)
        if found is not False:
            return found
    row = db.session.execute(select(*(getattr(CampaignTranslation, name) for name in FIELDS)).where(
        CampaignTranslation.campaign_id == campaign_id, CampaignTranslation.language == language)).one_or_none()
    found = None if row is None else tuple(value or "" for value in row)
    if edition is not None:
        with _lock:
            _kept()[key] = found
    return found


def campaign_text(campaign, language: str) -> CampaignText:
    """The campaign's text in ``language``: its translation's, or its own
    for its default language (and for a language it has no translation in);
    a field the translation lacks is the campaign's own. ``campaign``: a
    Campaign, or anything with its ``id``, ``edition`` and
    ``default_language`` (a field it does not have reads as empty)."""
    own = [getattr(campaign, name, "") or "" for name in FIELDS]
    if language != campaign.default_language and language in LANGUAGES:
        stored = _stored(campaign.id, getattr(campaign, "edition", None), language)
        if stored is not None:
            return CampaignText(*(theirs or mine for theirs, mine in zip(stored, own, strict=True)))
    return CampaignText(*own)


class CampaignInLanguage:
    """A campaign as its pages in one language show it: the text is that
    language's (see campaign_text), everything else (its address, kind,
    window, image, status) the campaign's own. Templates read it as they
    read a campaign."""

    __slots__ = ("_campaign", "text", "language")

    def __init__(self, campaign, text: CampaignText, language: str):
        self._campaign, self.text, self.language = campaign, text, language

    def __getattr__(self, name: str):
        if name in FIELDS or name == "demand_list":
            return getattr(self.text, name)
        return getattr(self._campaign, name)

    @property
    def campaign(self):
        """The campaign itself, its text in the default language."""
        return self._campaign


def in_language(campaign: Campaign, language: str) -> CampaignInLanguage:
    """``campaign`` as shown in ``language`` (see language_of)."""
    return CampaignInLanguage(campaign, campaign_text(campaign, language), language)


def listed_in(campaigns: list[Campaign], language: str) -> list:
    """``campaigns`` as a list of them in ``language`` shows them: each one
    published in it in its words (read in one statement), the others as
    they are."""
    wanted = [c.id for c in campaigns if language != c.default_language and language in (c.published_languages or ())]
    if not wanted:
        return list(campaigns)
    rows = {row.campaign_id: row for row in db.session.execute(select(CampaignTranslation).where(
        CampaignTranslation.campaign_id.in_(wanted), CampaignTranslation.language == language)).scalars()}
    shown = []
    for campaign in campaigns:
        row = rows.get(campaign.id)
        if row is None:
            shown.append(campaign)
            continue
        text = CampaignText(*((getattr(row, name) or "") or (getattr(campaign, name) or "") for name in FIELDS))
        shown.append(CampaignInLanguage(campaign, text, language))
    return shown


def frozen(stored: Mapping | None) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``SignQuestion.translations`` as a frozen question (questions.Question)
    holds it: ((language, label, choices), ...), so it can be hashed."""
    return tuple(sorted((language, str(entry.get("label") or ""), tuple(str(c) for c in entry.get("choices") or ()))
                        for language, entry in (stored or {}).items() if isinstance(entry, Mapping)))


def _question_entry(question, language: str) -> tuple[str, tuple[str, ...]]:
    """(label, choices) of ``question`` in ``language``, empty where missing:
    ``question`` is a SignQuestion or a questions.Question."""
    stored = getattr(question, "translations", None) or ()
    if isinstance(stored, Mapping):
        entry = stored.get(language)
        if not isinstance(entry, Mapping):
            return "", ()
        return str(entry.get("label") or ""), tuple(str(c) for c in entry.get("choices") or ())
    for each, label, choices in stored:
        if each == language:
            return label, choices
    return "", ()


def question_label(question, language: str | None) -> str:
    """The question's label as a page in ``language`` shows it: the
    translation's, else the question's own."""
    label = _question_entry(question, language)[0] if language else ""
    return label or question.label


def question_choices(question, language: str | None) -> list[str]:
    """The choices as a page in ``language`` shows them, in the order of
    ``question.choices``, the values the form sends and stores; the
    question's own unless the translation has every one of them."""
    own = list(question.choices or ())
    choices = _question_entry(question, language)[1] if language else ()
    return list(choices) if len(choices) == len(own) and all(choices) else own


# --- What a translation must have --------------------------------------------------

def required_fields(campaign: Campaign) -> list[str]:
    """The campaign's fields a translation of it must have: every one it
    shows (the title, summary and pledge always; the others where it has
    them and its kind shows them)."""
    wanted = []
    for name in FIELDS:
        if name == "statement" and campaign.kind != Kind.FREEZE:
            continue
        if name == "date_question" and not (campaign.kind == Kind.PLEDGE and campaign.asks_date):
            continue
        if name in ("title", "summary", "pledge_text") or (getattr(campaign, name) or "").strip():
            wanted.append(name)
    return wanted


def questions_to_translate(campaign_id: int) -> list[SignQuestion]:
    """The questions the sign form asks (hidden ones are not shown), in order."""
    return list(db.session.execute(
        select(SignQuestion).where(SignQuestion.campaign_id == campaign_id, SignQuestion.hidden.is_(False))
        .order_by(SignQuestion.position, SignQuestion.id)).scalars())


def label_field(question: SignQuestion) -> str:
    return f"question_{question.id}"


def choices_field(question: SignQuestion) -> str:
    return f"question_{question.id}_choices"


def translation_of(campaign: Campaign, language: str) -> CampaignTranslation | None:
    return db.session.execute(select(CampaignTranslation).where(
        CampaignTranslation.campaign_id == campaign.id, CampaignTranslation.language == language)).scalar_one_or_none()


def _missing(campaign: Campaign, texts: Mapping[str, str], asked: list[SignQuestion],
             question_texts: Mapping[int, tuple[str, tuple[str, ...]]]) -> list[str]:
    # A demand without its line is missing too (the lines pair up in order).
    missing = [name for name in required_fields(campaign) if not (texts.get(name) or "").strip()
               or (name == "demands" and len(demand_lines(texts[name])) != len(campaign.demand_list))]
    for question in asked:
        label, choices = question_texts.get(question.id, ("", ()))
        if not label.strip():
            missing.append(label_field(question))
        if question.kind == QuestionKind.CHOICE and (len(choices) != len(question.choices or ()) or not all(choices)):
            missing.append(choices_field(question))
    return missing


def missing_fields(campaign: Campaign, language: str) -> list[str]:
    """What the ``language`` translation of ``campaign`` lacks, by field
    name (see TranslationError), in the order of the editor's form: empty
    when it may be published."""
    row = translation_of(campaign, language)
    texts = {name: getattr(row, name) or "" for name in FIELDS} if row is not None else {}
    asked = questions_to_translate(campaign.id)
    return _missing(campaign, texts, asked, {q.id: _question_entry(q, language) for q in asked})


# --- Changing them (the Languages page) -------------------------------------------

def other_languages(campaign: Campaign) -> list[str]:
    """The languages a campaign can be translated into: the site's, but its default."""
    return [language for language in LANGUAGES if language != campaign.default_language]


def _hold(campaign: Campaign) -> None:
    """Lock the campaign's row and read it afresh: two organisers changing
    its languages at once take turns (PostgreSQL; SQLite writes one at a
    time), and each decides on what the other left."""
    db.session.refresh(campaign, with_for_update=True)


def _check_language(campaign: Campaign, language: str) -> None:
    if language not in other_languages(campaign):
        db.session.rollback()
        raise TranslationError("language", _l("Choose one of the site's languages, other than the campaign's own"))


def checked_text(campaign: Campaign, name: str, value) -> str:
    """``value`` for the field ``name`` of a translation of ``campaign``,
    tidied (line breaks as one character, none in a one-line field, no
    space at the ends), or TranslationError saying what is wrong with it."""
    text = value if isinstance(value, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if name not in MULTILINE:
        text = " ".join(text.split("\n"))
    if len(text) > LIMITS[name]:
        raise TranslationError(name, TOO_LONG[name])
    if has_control_characters(text.replace("\n", "").replace("\t", "")):
        raise TranslationError(name, _l("%(label)s contains characters we cannot accept", label=LABELS[name]))
    if name == "demands" and text and len(demand_lines(text)) != len(campaign.demand_list):
        raise TranslationError(name, _l("Write the %(n)s demands, one a line, in the order of the campaign's own",
                                        n=len(campaign.demand_list)))
    return text


def checked_question(question: SignQuestion, label, choices) -> tuple[str, tuple[str, ...]]:
    """A question's label and choices (lines) in a translation, tidied, or
    TranslationError. No choices at all is simply missing; otherwise there
    is one for each of the question's own, each different."""
    label = " ".join((label if isinstance(label, str) else "").split())
    if len(label) > MAX_LABEL:
        raise TranslationError(label_field(question), _l("The question must be %(n)s characters or fewer",
                                                         n=MAX_LABEL))
    if has_control_characters(label):
        raise TranslationError(label_field(question), _l("The question contains characters we cannot accept"))
    if question.kind != QuestionKind.CHOICE:
        return label, ()
    lines = tuple(" ".join(str(line).split()) for line in (choices or ()) if str(line).strip())
    if not lines:
        return label, ()
    field = choices_field(question)
    if len(lines) != len(question.choices or ()):
        raise TranslationError(field, _l("Write the %(n)s answers, one a line, in the order of the question's own",
                                         n=len(question.choices or ())))
    if any(len(line) > MAX_CHOICE for line in lines):
        raise TranslationError(field, _l("Each answer must be %(n)s characters or fewer", n=MAX_CHOICE))
    if any(has_control_characters(line) for line in lines):
        raise TranslationError(field, _l("The answers contain characters we cannot accept"))
    if len(set(lines)) != len(lines):
        raise TranslationError(field, _l("Give each answer its own words: two are the same"))
    return label, lines


def save_translation(campaign: Campaign, language: str, texts: Mapping[str, str],
                     question_texts: Mapping[int, tuple[str, list[str]]]) -> CampaignTranslation:
    """Store the ``language`` translation of ``campaign``: ``texts`` by
    field (of FIELDS; a field the campaign does not show, or one not given,
    keeps what it had) and, by question id, each question's label and
    choices (a line each, in the order of its own). An empty field is
    simply missing; a published translation must stay complete."""
    _hold(campaign)
    _check_language(campaign, language)
    try:
        row = translation_of(campaign, language)
        stored = {name: (getattr(row, name) or "") if row is not None else "" for name in FIELDS}
        wanted = required_fields(campaign)
        for name in wanted:
            if name in texts:
                stored[name] = checked_text(campaign, name, texts[name])
        asked = questions_to_translate(campaign.id)
        entries = {q.id: _question_entry(q, language) for q in asked}
        for question in asked:
            if question.id in question_texts:
                label, choices = question_texts[question.id]
                entries[question.id] = checked_question(question, label, choices)
        if language in (campaign.published_languages or ()):
            missing = _missing(campaign, stored, asked, entries)
            if missing:
                raise TranslationError(missing[0], _l("This translation is published, so nothing may be left "
                                                      "empty: fill it in, or unpublish the translation first"))
    except TranslationError:
        db.session.rollback()
        raise
    if row is None:
        row = CampaignTranslation(campaign_id=campaign.id, language=language)
        db.session.add(row)
    for name in wanted:
        setattr(row, name, stored[name])
    row.updated_at = utcnow()
    for question in asked:
        _store_question(question, language, *entries[question.id])
    db.session.commit()
    return row


def _store_question(question: SignQuestion, language: str, label: str, choices: tuple[str, ...]) -> None:
    # A new dict, not the old one changed: a JSON column notices assignment only.
    translations = dict(question.translations or {})
    if label or choices:
        translations[language] = {"label": label, "choices": list(choices)}
    else:
        translations.pop(language, None)
    if translations != (question.translations or {}):
        question.translations = translations or None


def publish(campaign: Campaign, language: str) -> None:
    """Show the ``language`` translation to the public; refused while any
    field is missing (the error's message names how many)."""
    _hold(campaign)
    _check_language(campaign, language)
    missing = missing_fields(campaign, language)
    if missing:
        db.session.rollback()
        raise TranslationError("language", _l("Fill in every field before publishing: %(n)s missing",
                                              n=len(missing)))
    published = set(campaign.published_languages or ()) | {language}
    campaign.published_languages = [each for each in LANGUAGES if each in published]
    db.session.commit()


def unpublish(campaign: Campaign, language: str) -> None:
    """Take the ``language`` translation off the public pages (always
    allowed; its text stays, to publish again)."""
    _hold(campaign)
    if language in (campaign.published_languages or ()):
        campaign.published_languages = [each for each in campaign.published_languages if each != language]
    db.session.commit()


def set_default_language(campaign: Campaign, language: str) -> None:
    """Say which language the campaign's own text is written in. Not one it
    has a published translation into: the page in that language would have
    two texts. Its pages without a language in the path show it."""
    _hold(campaign)
    if language not in LANGUAGES:
        db.session.rollback()
        raise TranslationError("language", _l("Choose one of the site's languages"))
    if language in (campaign.published_languages or ()):
        db.session.rollback()
        raise TranslationError("language", _l("That language has a published translation: unpublish it first, "
                                              "then say the campaign is written in it"))
    campaign.default_language = language
    db.session.commit()
