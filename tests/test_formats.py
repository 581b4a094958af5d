"""Numbers, days and times, and country names as a reader of each language
writes them (campaign/formats, campaign/countries): the campaign page's
count and goal, its window, a business's pause, the country select, the
public list of signers and the dashboard. What machines read stays as it
was: plain digits for the bar, the script and count.json, ISO days in
``<time datetime>``, ISO country codes stored and English names in exports."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask_babel import force_locale

from campaign import countries, pause_periods
from campaign.extensions import db
from campaign.models import (
    Business,
    CampaignStatus,
    CampaignTranslation,
    ExportRecord,
    Kind,
    Signature,
    SignatureTally,
)

from .builders import confirm_signature, csrf_token, log_in, make_campaign, make_organiser, valid_pledge
from .test_forms import Page
from .test_freeze_follow_through import local_freeze

LANGUAGES = ("en", "es", "fr", "ar")
NNBSP = "\u202f"  # French groups digits with a narrow no-break space

# --- Helpers ---------------------------------------------------------------------------


def translated(campaign, **texts: dict):
    """``campaign`` published in Spanish, French and Arabic. Its text is its
    own in each (only the page around it is under test here) but for the
    fields ``texts`` gives a language (``ar={"title": ...}``)."""
    for language in ("es", "fr", "ar"):
        fields = {name: getattr(campaign, name) or "" for name in (
            "title", "summary", "story", "pledge_text", "demands", "share_text", "statement", "next_action",
            "date_question")}
        db.session.add(CampaignTranslation(campaign_id=campaign.id, language=language,
                                           **{**fields, **texts.get(language, {})}))
    campaign.published_languages = ["es", "fr", "ar"]
    db.session.commit()
    return campaign


def path(language: str, rest: str) -> str:
    """``rest`` in ``language``: English is the site's default, with no prefix."""
    return rest if language == "en" else f"/{language}{rest}"


def counted(campaign, signatures: int) -> None:
    """The stored count of confirmed signatures, set as the tallies hold it."""
    db.session.merge(SignatureTally(campaign_id=campaign.id, status="confirmed", email_opt_in=False, shard=0,
                                    signatures=signatures))
    db.session.commit()


def html(client, address: str) -> str:
    response = client.get(address)
    assert response.status_code == 200, (address, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


def texts(document: str, attribute: str) -> list[str]:
    """The text of each element with ``attribute``, as written (its narrow no-break spaces too)."""
    return [e["text"].strip() for e in Page(document).elements if attribute in e["attrs"]]


def options(document: str, select_id: str = "country") -> list[tuple[str, str]]:
    return [(e["attrs"]["value"], e["text"]) for e in Page(document).elements
            if e["tag"] == "option" and select_id in e["inside"]]


# --- Numbers ---------------------------------------------------------------------------

COUNT = {"en": "1,234,567", "es": "1.234.567", "fr": f"1{NNBSP}234{NNBSP}567", "ar": "1,234,567"}
GOAL = {"en": "2,000,000", "es": "2.000.000", "fr": f"2{NNBSP}000{NNBSP}000", "ar": "2,000,000"}
THOUSANDS = {"en": ",", "es": ".", "fr": NNBSP, "ar": ","}


def test_babel_writes_arabic_numbers_with_western_digits_and_commas():
    """CLDR's Arabic ("ar", no region) uses the Latin digits by default:
    what the Arabic page shows is what Babel gives, not a digit of our own."""
    assert format_decimal(1234567, locale="ar") == COUNT["ar"]
    assert format_decimal(1234567, locale="es") == COUNT["es"]  # "." from four digits up, in Babel


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_count_and_the_goal_are_written_as_the_pages_language_writes_them(ctx, client, language):
    campaign = translated(make_campaign(goal=2_000_000))
    counted(campaign, 1_234_567)
    page = html(client, path(language, f"/c/{campaign.slug}"))
    assert texts(page, "data-count") == [COUNT[language]]
    assert texts(page, "data-goal") == [GOAL[language]]
    # The bar, the script's starting figures and its separator; count.json stays plain digits.
    assert '<progress value="1234567" max="2000000"' in page
    assert 'data-count-number="1234567" data-goal-number="2000000"' in page
    assert f'data-thousands="{THOUSANDS[language]}"' in page
    counts = json.loads(client.get(path(language, f"/c/{campaign.slug}/count.json")).get_data())
    assert (counts["signatures"], counts["goal"]) == (1_234_567, 2_000_000)


def test_a_count_filled_in_per_request_is_written_in_the_language_of_that_request(ctx, client):
    """The page is built once per edition and language; the count is filled
    into it on each request, so a new count is written as that page's
    language writes it, and a page in another language keeps its own."""
    campaign = translated(make_campaign(goal=5_000_000))
    counted(campaign, 1_234_567)
    assert texts(html(client, f"/es/c/{campaign.slug}"), "data-count") == ["1.234.567"]
    counted(campaign, 2_345_678)
    assert texts(html(client, f"/es/c/{campaign.slug}"), "data-count") == ["2.345.678"]
    assert texts(html(client, f"/fr/c/{campaign.slug}"), "data-count") == [f"2{NNBSP}345{NNBSP}678"]
    assert texts(html(client, f"/c/{campaign.slug}"), "data-count") == ["2,345,678"]


def test_a_closed_campaigns_total_is_written_in_the_pages_language(ctx, client):
    campaign = translated(make_campaign(status=CampaignStatus.CLOSED))
    counted(campaign, 1_234_567)
    assert "1.234.567" in html(client, f"/es/c/{campaign.slug}").split('class="closed"')[1]
    assert "1,234,567 signatures" in html(client, f"/c/{campaign.slug}")


def test_the_dashboard_figures_are_written_in_the_pages_language(ctx, client):
    campaign = translated(make_campaign(slug="figures"))
    make_organiser(campaigns=[campaign])
    counted(campaign, 1_234_567)
    log_in(client)
    spanish = Page(html(client, "/es/organiser/c/figures/"))
    confirmed = next(e for e in spanish.elements if e["attrs"].get("data-figure") == "confirmed")
    assert confirmed["text"] == "1.234.567"
    english = Page(html(client, "/organiser/c/figures/"))
    assert next(e for e in english.elements if e["attrs"].get("data-figure") == "confirmed")["text"] == "1,234,567"


def test_the_dashboards_days_and_times_are_written_in_the_pages_language(ctx, client):
    campaign = translated(make_campaign(slug="logged"))
    make_organiser(campaigns=[campaign])
    log_in(client)
    assert client.get("/es/organiser/c/logged/export/counts?by=day&format=csv").status_code == 200
    [record] = db.session.execute(db.select(ExportRecord)).scalars()
    when = record.created_at  # naive UTC, shown in UTC under the heading "When (UTC)"
    log = html(client, "/es/organiser/c/logged/").split('id="exports-title"')[1]
    stamp = when.isoformat(timespec="seconds")
    spanish = f"{format_date(when, 'medium', locale='es')}, {format_time(when, 'short', locale='es')}"
    assert f'<time datetime="{stamp}Z">{spanish}</time>' in log
    log = html(client, "/fr/organiser/c/logged/").split('id="exports-title"')[1]
    french = f"{format_date(when, 'medium', locale='fr')}, {format_time(when, 'short', locale='fr')}"
    assert f'<time datetime="{stamp}Z">{french}</time>' in log


# --- Days and times ----------------------------------------------------------------------

# A freeze from 14:00 UTC on 1 March 2099: 09:00 in New York, the organiser's zone.
STARTS = {
    "en": "Sunday, March 1, 2099, 9:00\u202fAM EST",
    "es": "domingo, 1 de marzo de 2099, 9:00 GMT-05:00",
    "fr": "dimanche 1 mars 2099, 09:00 UTC-05:00",
    "ar": "الأحد، 1 مارس 2099، 9:00 ص غرينتش-05:00",
}
STARTS_IN_UTC = {
    "en": "Mar 1, 2099, 2:00\u202fPM UTC",
    "es": "1 mar 2099, 14:00 UTC",
    "fr": "1 mars 2099, 14:00 TU",
    "ar": "01\u200f/03\u200f/2099، 2:00 م التوقيت العالمي",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_windows_times_are_written_in_the_pages_language(ctx, client, language):
    campaign = translated(make_campaign(kind=Kind.FREEZE, time_zone="America/New_York",
                                        window_start=dt.datetime(2099, 3, 1, 14), window_end=dt.datetime(2099, 3, 2, 14)))
    page = html(client, path(language, f"/c/{campaign.slug}"))
    assert STARTS[language] in page
    assert f'<time datetime="2099-03-01T14:00:00Z" data-local>{STARTS_IN_UTC[language]}</time>' in page
    # The countdown and the calendar file read ISO, whatever the language.
    assert 'data-countdown="2099-03-01T14:00:00Z"' in page


def test_a_local_hours_freeze_reads_in_spanish(ctx, client):
    """The window's sentences (windows.describe_window and the window's
    templates): every word from the catalog or from CLDR, none in English."""
    campaign = translated(local_freeze())
    window = html(client, f"/es/c/{campaign.slug}").split('class="window ')[1].split("</section>")[0]
    text = " ".join(re.sub(r"<[^>]+>", " ", window).split())
    assert "Empieza domingo, 1 de marzo de 2099, 9:00, en tu hora local" in text
    assert "Termina lunes, 2 de marzo de 2099, 9:00, en tu hora local" in text
    assert "Las mismas horas en cada zona horaria" in text
    assert "28 feb 2099, 19:00 UTC" in text and "2 mar 2099, 20:00 UTC" in text
    assert "Empieza en {days} d {hours} h {minutes} min" in window
    assert 'data-countdown="2099-03-01T09:00"' in window
    for english in ("Sunday", "March", "Starts", "your local time", "AM", "PM"):
        assert english not in text, english


@pytest.mark.parametrize("language, day", [
    ("en", "July 1, 2026"), ("es", "1 de julio de 2026"), ("fr", "1 juillet 2026"), ("ar", "1 يوليو 2026"),
])
def test_a_business_pause_day_is_written_in_the_language_of_the_message(ctx, language, day):
    business = Business(pause_start=dt.date(2026, 6, 1), pause_end=dt.date(2026, 7, 1))
    with force_locale(language):
        message = str(pause_periods.extension_problem(business, dt.date(2026, 6, 20)))
    assert message.endswith(day)


# --- Countries ---------------------------------------------------------------------------


@pytest.mark.parametrize("language, shuffled, expected", [
    # French: accents and case aside, "É" is an "E".
    ("fr", ["Espagne", "États-Unis", "Égypte", "dominique", "Équateur", "Estonie"],
     ["dominique", "Égypte", "Équateur", "Espagne", "Estonie", "États-Unis"]),
    # A letter with an umlaut sorts as its base letter, not after "Z".
    ("en", ["Zambia", "Österreich", "Oman", "Åland Islands", "Albania"],
     ["Åland Islands", "Albania", "Oman", "Österreich", "Zambia"]),
    # Spanish: "ñ" is a letter of its own, after "n"; elsewhere an "n".
    ("es", ["Oman", "Ñandutí", "Nueva Zelanda", "Níger", "Nigeria"],
     ["Níger", "Nigeria", "Nueva Zelanda", "Ñandutí", "Oman"]),
    ("en", ["Oman", "Ñandutí", "Nueva Zelanda"], ["Ñandutí", "Nueva Zelanda", "Oman"]),
    # Arabic: hamza and madda forms of alef sort as alef, then the letters in alphabetical order.
    ("ar", ["بلجيكا", "آيسلندا", "اليمن", "ألمانيا", "إثيوبيا"],
     ["إثيوبيا", "ألمانيا", "اليمن", "آيسلندا", "بلجيكا"]),
])
def test_country_names_sort_as_a_reader_of_the_language_expects(language, shuffled, expected):
    assert sorted(shuffled, key=lambda name: countries.sort_key(name, language)) == expected


SELECT = {  # the first countries of the select, and Germany's name, in each language
    "en": (["Afghanistan", "Åland Islands", "Albania"], "Germany"),
    "es": (["Afganistán", "Albania", "Alemania"], "Alemania"),
    "fr": (["Afghanistan", "Afrique du Sud", "Albanie"], "Allemagne"),
    "ar": (["إثيوبيا", "أذربيجان", "أرمينيا"], "ألمانيا"),
}
CHOOSE = {"en": "Choose your country", "es": "Elige tu país", "fr": "Choisissez votre pays", "ar": "اختاروا بلدكم"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_country_select_lists_every_country_by_its_name_in_the_pages_language_in_its_order(
        ctx, client, language):
    campaign = translated(make_campaign())
    listed = options(html(client, path(language, f"/c/{campaign.slug}")))
    assert listed[0] == ("", CHOOSE[language])
    codes, names = [code for code, _ in listed[1:]], [name for _, name in listed[1:]]
    assert len(codes) == len(set(codes)) == 249 and all(countries.is_country(code) for code in codes)
    assert names == sorted(names, key=lambda name: countries.sort_key(name, language))
    first, germany = SELECT[language]
    assert names[:3] == first
    assert dict(listed)["DE"] == germany


def test_in_french_egypt_is_among_the_e(ctx, client):
    campaign = translated(make_campaign())
    names = [name for _, name in options(html(client, f"/fr/c/{campaign.slug}"))]
    egypt = names.index("Égypte")
    assert names[egypt - 1:egypt + 4] == ["Dominique", "Égypte", "Émirats arabes unis", "Équateur", "Érythrée"]
    assert names.index("Espagne") > egypt and names.index("États-Unis") > names.index("Estonie")


def test_a_country_chosen_by_its_french_name_is_stored_as_its_code_and_shown_in_each_language(ctx, client):
    campaign = translated(make_campaign(slug="pays"))
    make_organiser(campaigns=[campaign])
    form = html(client, "/fr/c/pays")
    response = client.post("/fr/c/pays/sign", data={**valid_pledge(country="DE"), "show_name": "y",
                                                     "csrf_token": csrf_token(form)})
    assert response.status_code == 200, response.status_code
    signature = db.session.execute(db.select(Signature)).scalar_one()
    assert signature.country == "DE"
    assert confirm_signature(signature)
    for language, name in (("fr", "Allemagne"), ("es", "Alemania"), ("ar", "ألمانيا"), ("en", "Germany")):
        signers = [e for e in Page(html(client, path(language, "/c/pays"))).elements
                   if e["tag"] == "li" and "signer-list" in e["inside"]]
        assert [" ".join(e["text"].split()) for e in signers] == [f"Ada {name}"], language
    log_in(client)
    dashboard = html(client, "/fr/organiser/c/pays/")
    assert "<td>Allemagne</td><td>DE</td>" in dashboard
    # The export keeps its English names, whatever the language of the page it is asked from.
    exported = client.get("/fr/organiser/c/pays/export/counts?by=country&format=csv").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(exported)))[1] == ["DE", "Germany", "1"]


def test_a_signers_name_and_address_keep_their_own_direction_on_an_arabic_page(ctx, client):
    """Names, addresses and business names people typed are isolated
    (<bdi>, dir=auto), so "ada@example.com" reads the same inside an
    Arabic sentence."""
    campaign = translated(make_campaign(slug="rtl"))
    form = html(client, "/ar/c/rtl")
    thanks = client.post("/ar/c/rtl/sign", data={**valid_pledge(email="ada@example.com"), "show_name": "y",
                                                 "csrf_token": csrf_token(form)}).get_data(as_text=True)
    assert '<strong class="signed-as" dir="auto">ada@example.com</strong>' in thanks
    confirm_signature(db.session.execute(db.select(Signature)).scalar_one())
    assert "<li><bdi>Ada</bdi>" in html(client, "/ar/c/rtl")
    assert campaign.slug == "rtl"


def test_a_count_inside_a_sentence_is_written_in_the_pages_language(ctx, client):
    """Sentences chosen by their count ("%(num)s signatures") write it as
    the language writes numbers, in Python and in templates alike: not
    "12345 firmas" beside a dashboard that says "12.345"."""
    from flask import render_template_string

    from campaign import audit
    campaign = make_campaign(slug="counted")
    organiser = make_organiser(campaigns=[campaign])
    audit.record("signatures.invalidated", organiser, campaign, {"invalidation": 1, "signatures": 12345})
    db.session.commit()
    log_in(client)
    assert "12.345 firmas" in html(client, "/es/organiser/audit")
    assert "12,345 signatures" in html(client, "/organiser/audit")
    template = "{{ ngettext('%(num)s field', '%(num)s fields', 1234) }}"
    with force_locale("fr"):
        assert render_template_string(template) == f"1{NNBSP}234 champs"
    with force_locale("en"):
        assert render_template_string(template) == "1,234 fields"
        assert render_template_string("{{ ngettext('%(num)s field', '%(num)s fields', 1) }}") == "1 field"
