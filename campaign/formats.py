"""Numbers, days and times as a reader of the page's language writes them.

Everything here formats in the language of what is being rendered: the
page's, or an email's under ``flask_babel.force_locale``. The patterns are
the Unicode CLDR's, through Babel, so no word or order is ours to get wrong:
1,234,567 in English, 1.234.567 in Spanish, 1 234 567 in French (narrow
no-break spaces); "March 1, 2099", "1 de marzo de 2099", "1 mars 2099",
"1 مارس 2099". Values a machine reads (``<time datetime>``, exports,
calendar files, JSON, form values) stay ISO and plain digits and never come
through here.

Times are stored as naive UTC. ``moment`` shows one in a zone, with the
zone's name in that language where CLDR has one ("EST", "UTC", "TU") and
its offset otherwise ("GMT-05:00", "UTC−05:00"), never Babel's bare
"-0500"."""
from __future__ import annotations

import datetime as dt
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from flask import current_app, has_app_context
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup, escape

UTC = dt.UTC


def _locale() -> Locale:
    """The language being rendered; the site's default outside a request
    (a command, the outbox worker) unless ``force_locale`` says otherwise."""
    locale = get_locale() if has_app_context() else None
    if locale is not None:
        return locale
    return _parsed(current_app.config["BABEL_DEFAULT_LOCALE"] if has_app_context() else "en")


@cache
def _parsed(language: str) -> Locale:
    return Locale.parse(language)


# --- Numbers ------------------------------------------------------------------------

def number(value: int | float) -> str:
    """A count or figure with the language's digits and separators."""
    return format_decimal(value, locale=_locale())


def ngettext(singular: str, plural: str, num: int, /, **variables) -> str:
    """Flask-Babel's ngettext, with ``%(num)s`` written as the language
    writes numbers ("1,234 signatures", "1.234 firmas"), not as raw digits."""
    variables.setdefault("num", number(num))
    return get_translations().ungettext(singular, plural, num) % variables


@pass_context
def template_ngettext(context, singular: str, plural: str, num: int, /, **variables) -> str:
    """``ngettext`` in templates (in place of the one Flask-Babel installs,
    which fills ``%(num)s`` with raw digits); values are escaped as there."""
    variables.setdefault("num", number(num))
    translated = get_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)
    return translated % variables


def percent(whole_percent: int | float) -> str:
    """A share given in whole percent (42 for 42 %), as the language writes it."""
    return format_percent(whole_percent / 100, locale=_locale())


def thousands_separator() -> str:
    """What the language puts between groups of three digits: the page's
    script uses it to write a refreshed count as the page wrote the first."""
    locale = _locale()
    return locale.number_symbols[locale.default_numbering_system]["group"]


def isolated(text: object) -> Markup:
    """``text`` in a ``<bdi>``: a number, a name or an address keeps its own
    direction inside a sentence written the other way ("1,234" or
    "ada@example.org" in Arabic, an Arabic name in English)."""
    return Markup(f"<bdi>{escape(text)}</bdi>")


# --- Days and times ----------------------------------------------------------------

def day(value: dt.date, width: str = "long") -> str:
    """A calendar day: ``long`` "March 1, 2099", ``full`` with the weekday,
    ``medium`` "Mar 1, 2099"."""
    return format_date(value, width, locale=_locale())


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def zone_name(value: dt.datetime, zone: dt.tzinfo) -> str:
    """The zone at that moment, as the language names it for short."""
    locale, moment = _locale(), _aware(value)
    name = format_time(moment, "z", tzinfo=zone, locale=locale)
    if name[:1] in "+-":  # no short name in this language: Babel falls back to an RFC 822 offset
        name = format_time(moment, "OOOO", tzinfo=zone, locale=locale)
    return name


def _day_and_time(day_text: str, time_text: str, width: str) -> str:
    """Day and time joined as the language joins them ("{1}, {0}")."""
    pattern = str(_locale().datetime_formats[width]).replace("'", "")
    return pattern.replace("{1}", day_text).replace("{0}", time_text)


def moment(value: dt.datetime, zone: dt.tzinfo = UTC, width: str = "full") -> str:
    """A moment (naive UTC, or aware) in ``zone``, named: "Sunday, March 1,
    2099, 9:00 AM EST". ``width`` is the day's (``full``, ``long``, ``medium``)."""
    local = _aware(value).astimezone(zone)
    locale = _locale()
    time_text = f"{format_time(local, 'short', tzinfo=zone, locale=locale)} {zone_name(value, zone)}"
    return _day_and_time(format_date(local.date(), width, locale=locale), time_text, width)


def wall_clock(value: dt.datetime, width: str = "full") -> str:
    """A day and time with no zone (the same hours wherever the reader is):
    "Sunday, March 1, 2099, 9:00 AM"."""
    locale = _locale()
    naive = value.replace(tzinfo=None)
    return _day_and_time(format_date(naive.date(), width, locale=locale),
                         format_time(naive.time(), "short", locale=locale), width)


def day_and_time(value: dt.datetime, width: str = "medium") -> str:
    """A moment in UTC without the zone's name, for where the words around
    it say "UTC" already (organiser tables headed "When (UTC)")."""
    return wall_clock(_aware(value).astimezone(UTC), width)
