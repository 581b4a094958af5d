"""Every string a person reads is in the catalogs, in every language.

The strings are extracted from the code and the templates as `make
messages` extracts them (babel.cfg, the same keywords), and compared with
translations/messages.pot; each language's catalog must translate every one
of them (not fuzzy, not empty) with the same placeholders, or a page would
show English in the middle of Arabic, or fail on a missing name. A string
no catalog has is shown in English, never as a key. When a test here
fails, its message lists the strings: run `make messages` and translate
what it added."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext, lazy_gettext, ngettext

from campaign.locales import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# As the Makefile's `messages` target: pybabel extract -k _l -k lazy_gettext.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
TRANSLATED = [language for language in LANGUAGES if language != "en"]
# %(name)s and the like, and bare %s / %d (%% is a percent sign, not a placeholder).
_NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifeEgGrxXoc]")
_BARE = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[sdifeEgGrxXoc]")


def _key(message_id) -> str:
    """A message's msgid (the singular, for one with plural forms)."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _extracted() -> dict[tuple[str, str | None], str]:
    """Every string of the code and the templates, by (msgid, context),
    with where it was first found."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
        msgid = _key(message)
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def _catalog(path: Path):
    with path.open("rb") as source:
        return read_po(source)


def _messages(catalog) -> dict[tuple[str, str | None], object]:
    return {(_key(message.id), message.context): message for message in catalog if message.id}


def _placeholders(text: str) -> tuple[set[str], int]:
    return set(_NAMED.findall(text)), len(_BARE.findall(text.replace("%%", "")))


def _listed(strings) -> str:
    return "\n".join(f"  {s}" for s in sorted(strings))


def test_every_string_of_the_code_and_templates_is_in_the_template_catalog():
    template = _messages(_catalog(TRANSLATIONS / "messages.pot"))
    missing = {f"{msgid!r} ({where})" for (msgid, context), where in _extracted().items()
               if (msgid, context) not in template}
    if missing:
        pytest.fail(f"{len(missing)} strings are not in translations/messages.pot (run `make messages`, "
                    f"then translate them):\n{_listed(missing)}", pytrace=False)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_language_translates_every_string_with_the_same_placeholders(language):
    template = _messages(_catalog(TRANSLATIONS / "messages.pot"))
    catalog = _messages(_catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"))
    problems = set()
    for key, source in template.items():
        message = catalog.get(key)
        shown = repr(key[0])
        if message is None:
            problems.add(f"{shown}: missing")
            continue
        forms = list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]
        if message.fuzzy:
            problems.add(f"{shown}: fuzzy")
        elif not all(forms):
            problems.add(f"{shown}: not translated")
        elif _wrong_placeholders(source.id, forms):
            problems.add(f"{shown}: placeholders differ ({', '.join(forms)!r})")
    if problems:
        pytest.fail(f"translations/{language}/LC_MESSAGES/messages.po: {len(problems)} strings of messages.pot "
                    f"are not translated as they must be:\n{_listed(problems)}", pytrace=False)


def _wrong_placeholders(source_id, forms: list[str]) -> bool:
    """A translation names other placeholders than its source. A plural
    form may leave out the number (Arabic says "one signature" in words),
    never name one its source does not have."""
    if isinstance(source_id, str):
        return any(_placeholders(form) != _placeholders(source_id) for form in forms)
    names = set().union(*(_placeholders(text)[0] for text in source_id))
    needed = names - {"num"}
    return any(not (needed <= _placeholders(form)[0] <= names) for form in forms)


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_string_no_catalog_has_is_shown_in_english_never_as_a_key(ctx, language):
    with ctx.test_request_context(), force_locale(language):
        assert gettext("Privacy notice") != "Privacy notice", "the catalogs are compiled and read"
        assert gettext("A sentence nobody has translated, for %(who)s.", who="Ada") == \
            "A sentence nobody has translated, for Ada."
        assert str(lazy_gettext("Another sentence nobody has translated.")) == \
            "Another sentence nobody has translated."
        assert ngettext("%(num)s untranslated thing", "%(num)s untranslated things", 3) == "3 untranslated things"


def test_the_placeholder_check_catches_what_would_break_a_page():
    assert _wrong_placeholders("Run by %(organiser)s", ["Dirigido por %(organizador)s"])
    assert _wrong_placeholders("Run by %(organiser)s", ["Dirigido por"])
    assert not _wrong_placeholders("Run by %(organiser)s", ["Dirigido por %(organiser)s"])
    assert not _wrong_placeholders(("%(num)s signature", "%(num)s signatures"), ["توقيع واحد", "%(num)s توقيعات"])
    assert _wrong_placeholders(("%(num)s signature", "%(num)s signatures"), ["%(count)s firma", "%(num)s firmas"])
    assert not _wrong_placeholders("100%% sure, %s", ["100%% seguro, %s"])
