"""A campaign in other languages: an organiser translates its text and its
sign form's questions on the Languages page, beside the campaign's own
words, sees what is missing, and publishes a language once nothing is; the
public then reads the whole campaign in it at /<language>/c/<slug>, and a
language that is not published sends them to the campaign's own page."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from campaign import questions, signing, tokens, translations
from campaign.extensions import db
from campaign.models import (
    AuditEvent,
    Campaign,
    CampaignTranslation,
    ConsentVersion,
    Kind,
    Signature,
    SignQuestion,
)

from .builders import csrf_token, form_values, log_in, make_campaign, make_organiser, valid_pledge
from .test_forms import assert_field_error, page

SLUG = "ad-free-weekend"

SPANISH = {
    "title": "Un fin de semana sin anuncios",
    "summary": "Dos días sin publicidad en la red.",
    "story": "## Por qué\n\nPorque **ya basta**.",
    "pledge_text": "Me comprometo a no ver anuncios durante el fin de semana.",
    "demands": "Datos abiertos\nSin patrones oscuros",
    "share_text": "Yo ya he firmado. Súmate:",
}
FRENCH = {
    "title": "Un week-end sans publicité",
    "summary": "Deux jours sans publicité sur le réseau.",
    "story": "## Pourquoi\n\nParce que **ça suffit**.",
    "pledge_text": "Je m’engage à ne voir aucune publicité ce week-end.",
    "demands": "Des données ouvertes\nPas de pièges dans l’interface",
    "share_text": "J’ai signé. Rejoignez-nous :",
}
ARABIC = {
    "title": "عطلة نهاية أسبوع بلا إعلانات",
    "summary": "يومان بلا إعلانات على الشبكة.",
    "story": "## لماذا\n\nلأنه **يكفي**.",
    "pledge_text": "أتعهد بألا أشاهد أي إعلان طوال عطلة نهاية الأسبوع.",
    "demands": "بيانات مفتوحة\nلا حيل في الواجهة",
    "share_text": "لقد وقّعت. انضموا إلينا:",
}
QUESTIONS = {  # the sector question's label and choices in each language
    "es": ("Tu sector", ["Salud", "Educación", "Otro"]),
    "fr": ("Votre secteur", ["Santé", "Éducation", "Autre"]),
    "ar": ("قطاعك", ["الصحة", "التعليم", "غير ذلك"]),
}
TEXTS = {"es": SPANISH, "fr": FRENCH, "ar": ARABIC}


@pytest.fixture
def campaign(ctx):
    """A live pledge with a story, two demands, a share text and a choice
    question; its organiser (a member) exists."""
    made = make_campaign(slug=SLUG, title="An ad-free weekend", summary="Two days without ads on the network.",
                         story="## Why\n\nBecause **enough**.", pledge_text="I pledge to see no ads this weekend.",
                         demands="Open data\nNo dark patterns", share_text="I've signed. Join in:")
    questions.add_question(made, "Your sector", "choice", choices=["Health", "Education", "Other"], required=True)
    make_organiser(campaigns=[made])
    return made


def sector(campaign) -> SignQuestion:
    return questions.questions_of(campaign.id)[0]


def translate(campaign, language: str, publish: bool = True, **changes) -> None:
    """A complete translation through the service (and published)."""
    label, choices = QUESTIONS[language]
    translations.save_translation(campaign, language, {**TEXTS[language], **changes},
                                  {sector(campaign).id: (label, choices)})
    if publish:
        translations.publish(campaign, language)


@pytest.fixture
def organiser(client, campaign):
    assert log_in(client).status_code == 303
    return client


def editor(language: str = "es") -> str:
    return f"/organiser/c/{SLUG}/languages/{language}"


def save(client, language: str = "es", **fields):
    """Press "Save the translation" with ``fields`` changed from what the page shows."""
    shown = client.get(editor(language)).get_data(as_text=True)
    data = {**form_values(shown.split('aria-labelledby="texts-title"')[1]), **fields}
    data["csrf_token"] = csrf_token(shown)
    return client.post(editor(language), data=data)


def press(client, language: str, action: str):
    data = {"action": action, "csrf_token": csrf_token(client.get(editor(language)).get_data(as_text=True))}
    return client.post(f"{editor(language)}/publication", data=data)


def form_fields(campaign, language: str) -> dict:
    """The editor's field names for a whole translation into ``language``."""
    label, choices = QUESTIONS[language]
    question = sector(campaign)
    return {**TEXTS[language], translations.label_field(question): label,
            translations.choices_field(question): "\n".join(choices)}


def text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


# --- The Languages page ---------------------------------------------------------------------

def test_the_languages_page_lists_each_language_and_what_it_lacks(organiser, campaign):
    """Each of the site's other languages, not started; then one part done."""
    html = organiser.get(f"/organiser/c/{SLUG}/").get_data(as_text=True)
    assert f'href="/organiser/c/{SLUG}/languages"' in html, "the campaign's menu leads to it"
    html = organiser.get(f"/organiser/c/{SLUG}/languages").get_data(as_text=True)
    for name in ("Spanish (Español)", "French (Français)", "Arabic (العربية)"):
        assert name in html
    assert html.count("Not started") == 3
    # Title, summary, story, pledge, demands, share text, the question and its answers.
    assert html.count("8 fields") == 3

    assert save(organiser, "es", title=SPANISH["title"]).status_code == 303
    html = organiser.get(f"/organiser/c/{SLUG}/languages").get_data(as_text=True)
    spanish = html.split('data-language="es"')[1].split("</tr>")[0]
    assert "Not published" in spanish and "7 fields" in spanish


def test_the_editor_shows_the_campaigns_own_words_and_lists_what_is_missing(organiser, campaign):
    """Every field beside the campaign's own text; the missing ones listed,
    each a link to its field; fewer as the translation fills up."""
    html = organiser.get(editor("es")).get_data(as_text=True)
    for own in ("An ad-free weekend", "Two days without ads on the network.", "## Why", "Because **enough**.",
                "I pledge to see no ads this weekend.", "Open data", "No dark patterns", "Your sector", "Health"):
        assert own in html
    missing = html.split("data-missing>")[1].split("</ul>")[0]
    for label in ("Title", "Summary", "Story", "Pledge text", "Demands", "Share text", "Question 1",
                  "The answers to question 1, one a line"):
        assert f">{label}</a>" in missing
    assert '<input dir="ltr" id="title" lang="es"' in html or 'lang="es"' in html.split('id="title"')[1][:200]

    assert save(organiser, "es", **SPANISH).status_code == 303
    html = organiser.get(editor("es")).get_data(as_text=True)
    missing = html.split("data-missing>")[1].split("</ul>")[0]
    assert ">Title</a>" not in missing and ">Question 1</a>" in missing
    assert SPANISH["title"] in html, "the saved text is shown to go on with"


def test_the_editor_writes_arabic_right_to_left_beside_the_own_words_left_to_right(organiser, campaign):
    html = organiser.get(editor("ar")).get_data(as_text=True)
    field = re.search(r'<input[^>]*id="title"[^>]*>', html).group(0)
    assert 'dir="rtl"' in field and 'lang="ar"' in field
    assert 'id="title-own" lang="en" dir="ltr"' in html


def test_publishing_refuses_an_incomplete_translation(organiser, campaign, client):
    save(organiser, "es", title=SPANISH["title"], summary=SPANISH["summary"])
    response = press(organiser, "es", "publish")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fill in every field before publishing: 6 missing" in html
    assert 'role="alert"' in html and ">Story</a>" in html
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).published_languages == []
    assert client.get(f"/es/c/{SLUG}").status_code == 302


def test_an_organiser_translates_and_publishes_and_the_public_reads_it(organiser, campaign, client):
    """Saved through the form, published by its button: /es/c/<slug> is Spanish."""
    assert save(organiser, "es", **form_fields(campaign, "es")).status_code == 303
    assert "Nothing is missing" in organiser.get(editor("es")).get_data(as_text=True)
    response = press(organiser, "es", "publish")
    assert response.status_code == 303
    assert "/es/c/" + SLUG in organiser.get(editor("es")).get_data(as_text=True)
    html = client.get(f"/es/c/{SLUG}").get_data(as_text=True)
    assert SPANISH["title"] in html and "<strong>ya basta</strong>" in html
    actions = [event.action for event in db.session.execute(select(AuditEvent)).scalars()]
    assert actions.count("translation.saved") == 1 and actions.count("translation.published") == 1


@pytest.mark.parametrize("language", ["es", "fr", "ar"])
def test_the_page_in_a_published_language_is_wholly_in_it(client, campaign, language):
    """Title, summary, story, pledge, demands and the question with its
    answers, in the language; the default page stays in English."""
    translate(campaign, language)
    html = client.get(f"/{language}/c/{SLUG}").get_data(as_text=True)
    words = TEXTS[language]
    assert f"<h1>{words['title']}</h1>" in html
    assert f"<title>{words['title']} ·" in html
    for name in ("summary", "pledge_text"):
        assert unescape(words[name]) in unescape(html)
    for line in words["demands"].splitlines():
        assert f'<p class="demand-text">{unescape(line)}</p>' in unescape(html)
    label, choices = QUESTIONS[language]
    assert f">{label}<" in html
    question = sector(campaign)
    for value, shown in zip(question.choices, choices):
        assert f'<option value="{value}">{shown}</option>' in html, "the value sent stays the default's"
    for english in ("An ad-free weekend", "I pledge to see no ads", "Your sector", ">Health<", "Open data"):
        assert english not in html
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    english = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert "<h1>An ad-free weekend</h1>" in english and words["title"] not in english


def test_the_switcher_offers_only_the_campaigns_languages(client, campaign):
    translate(campaign, "fr")
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert f'hreflang="fr" href="http://campaigns.test/fr/c/{SLUG}"' in html
    assert 'hreflang="es"' not in html and 'hreflang="ar"' not in html


@pytest.mark.parametrize("path", ["/{language}/c/{slug}", "/{language}/c/{slug}?source=newsletter",
                                  "/{language}/c/{slug}/embed", "/{language}/c/{slug}/thanks"])
def test_a_language_not_published_redirects_to_the_campaigns_own_page(client, campaign, path):
    """Never half translated: not started, started, or unpublished again."""
    address = path.format(language="es", slug=SLUG)
    bare = address.replace("/es", "", 1)
    assert client.get(address).status_code == 302
    assert client.get(address).headers["Location"] == bare
    translate(campaign, "es", publish=False)
    assert client.get(address).headers["Location"] == bare
    translations.publish(campaign, "es")
    assert client.get(address).status_code == 200
    translations.unpublish(campaign, "es")
    assert client.get(address).headers["Location"] == bare


def test_an_organiser_previews_a_translation_before_publishing_it(organiser, campaign):
    translate(campaign, "ar", publish=False)
    assert "/organiser/c/ad-free-weekend/preview?language=ar" in organiser.get(editor("ar")).get_data(as_text=True)
    html = organiser.get(f"/organiser/c/{SLUG}/preview?language=ar").get_data(as_text=True)
    assert f"<h1>{ARABIC['title']}</h1>" in html and '<html lang="ar" dir="rtl">' in html
    for unknown in ("xx", "en", ""):
        html = organiser.get(f"/organiser/c/{SLUG}/preview?language={unknown}").get_data(as_text=True)
        assert "<h1>An ad-free weekend</h1>" in html


def test_unpublishing_is_always_allowed_and_keeps_the_text(organiser, campaign, client):
    translate(campaign, "es")
    assert press(organiser, "es", "unpublish").status_code == 303
    assert client.get(f"/es/c/{SLUG}").status_code == 302
    assert SPANISH["title"] in organiser.get(editor("es")).get_data(as_text=True)
    assert press(organiser, "es", "unpublish").status_code == 303, "twice is once"
    actions = [event.action for event in db.session.execute(select(AuditEvent)).scalars()]
    assert actions.count("translation.unpublished") == 2


def test_an_edit_of_a_translation_shows_on_the_next_request(client, campaign, organiser):
    """The page is kept per edition: a saved translation makes a new one."""
    translate(campaign, "es")
    assert SPANISH["title"] in client.get(f"/es/c/{SLUG}").get_data(as_text=True)
    assert save(organiser, "es", title="Un fin de semana libre de anuncios").status_code == 303
    html = client.get(f"/es/c/{SLUG}").get_data(as_text=True)
    assert "Un fin de semana libre de anuncios" in html and SPANISH["title"] not in html


def test_a_published_translation_cannot_be_emptied(organiser, campaign):
    translate(campaign, "es")
    response = save(organiser, "es", story="")
    assert response.status_code == 422
    assert_field_error(page(response), "story", "This translation is published, so nothing may be left empty: "
                                                "fill it in, or unpublish the translation first")
    db.session.expire_all()
    assert translations.translation_of(campaign, "es").story == SPANISH["story"]


def test_a_field_the_campaign_gains_after_publishing_shows_in_its_own_language(client, campaign):
    """A new question is missing from the published translation: its words
    are the campaign's own until translated, and the editor says so."""
    translate(campaign, "es")
    questions.add_question(campaign, "Your city", "text")
    html = client.get(f"/es/c/{SLUG}").get_data(as_text=True)
    assert SPANISH["title"] in html and ">Your city <" in html
    assert len(translations.missing_fields(campaign, "es")) == 1


# --- Signing in another language -----------------------------------------------------------

def sign_in(client, language: str, **fields):
    html = client.get(f"/{language}/c/{SLUG}").get_data(as_text=True)
    data = {**valid_pledge(), **fields, "csrf_token": csrf_token(html)}
    return client.post(f"/{language}/c/{SLUG}/sign", data=data)


def test_an_answer_to_a_translated_choice_is_stored_as_the_default_languages_choice(client, campaign):
    translate(campaign, "es")
    field = f"question_{sector(campaign).id}"
    response = sign_in(client, "es", **{field: "Education"})
    assert response.status_code == 200
    assert SPANISH["title"] in response.get_data(as_text=True), "the thank-you page in Spanish"
    signature = db.session.execute(select(Signature)).scalar_one()
    assert signature.answers == {str(sector(campaign).id): "Education"}
    assert signature.language == "es"
    version = db.session.get(ConsentVersion, signature.consent_version_id)
    assert version is not None and version.texts["pledge"] == SPANISH["pledge_text"], \
        "the wording agreed to is the one the page showed"


def test_a_choice_sent_in_its_translated_words_is_refused_in_the_page_language(client, campaign):
    """The stored choices are the values; the Spanish words are not one of them."""
    translate(campaign, "es")
    field = f"question_{sector(campaign).id}"
    response = sign_in(client, "es", **{field: "Educación"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "“Tu sector”" in html, "the message names the question as the page does"
    assert SPANISH["title"] in html and '<option value="Education">Educación</option>' in html
    assert db.session.execute(select(Signature)).first() is None


def test_the_confirmation_page_speaks_the_signers_language(client, campaign, smtp, deliver):
    translate(campaign, "es")
    sign_in(client, "es", **{f"question_{sector(campaign).id}": "Other"})
    signature_id = db.session.execute(select(Signature.id)).scalar_one()
    html = client.get(f"/es/confirm/{tokens.token_for(tokens.CONFIRM, signature_id)}").get_data(as_text=True)
    assert SPANISH["title"] in html and SPANISH["pledge_text"] in html


def test_the_poster_unsubscribe_and_check_in_pages_are_in_the_pages_language(client, campaign, smtp, deliver):
    """Pages opened from a printed code or an emailed link name the campaign
    in that page's language, and the poster's code leads to that language."""
    translate(campaign, "es")
    poster = client.get(f"/es/c/{SLUG}/poster").get_data(as_text=True)
    assert SPANISH["title"] in poster and SPANISH["pledge_text"] in poster
    assert f"campaigns.test/es/c/{SLUG}" in poster
    assert "An ad-free weekend" in client.get(f"/c/{SLUG}/poster").get_data(as_text=True)
    sign_in(client, "es", **{f"question_{sector(campaign).id}": "Other"})
    signature_id = db.session.execute(select(Signature.id)).scalar_one()
    token = tokens.token_for(tokens.UNSUBSCRIBE, signature_id)
    assert SPANISH["title"] in client.get(f"/es/unsubscribe/{token}").get_data(as_text=True)
    assert SPANISH["title"] in client.post(f"/es/unsubscribe/{token}").get_data(as_text=True)
    assert "An ad-free weekend" in client.get(f"/unsubscribe/{token}").get_data(as_text=True)


def test_the_embed_page_and_the_link_preview_are_in_the_pages_language(client, campaign):
    translate(campaign, "fr")
    embedded = client.get(f"/fr/c/{SLUG}/embed").get_data(as_text=True)
    assert FRENCH["title"] in embedded and ">Votre secteur<" in embedded
    html = client.get(f"/fr/c/{SLUG}").get_data(as_text=True)
    assert f'<meta property="og:title" content="{FRENCH["title"]}">' in html
    assert f'content="http://campaigns.test/fr/c/{SLUG}/card.png?v=' in html
    card = client.get(f"/fr/c/{SLUG}/card.png")
    assert card.status_code == 200 and card.mimetype == "image/png"


def test_the_list_of_campaigns_names_each_in_the_pages_language(client, campaign):
    """Those published in the language in its words, the others in their own."""
    translate(campaign, "es")
    make_campaign(title="Only in English", summary="Not translated yet.")
    html = client.get("/es/").get_data(as_text=True)
    assert SPANISH["title"] in html and SPANISH["summary"] in html and "An ad-free weekend" not in html
    assert "Only in English" in html
    assert "An ad-free weekend" in client.get("/").get_data(as_text=True)


def test_a_translated_title_is_text_never_markup(client, campaign):
    translate(campaign, "es", title="<script>alert(1)</script>", story="<img src=x onerror=alert(1)>")
    html = client.get(f"/es/c/{SLUG}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


# --- The editor refuses what it cannot take ----------------------------------------------------

BAD_FIELDS = [
    ("title", "x" * 201, "The title must be 200 characters or fewer"),
    ("title", "Un\u0000título", "Title contains characters we cannot accept"),
    ("summary", "x" * 501, "The summary must be 500 characters or fewer"),
    ("story", "x" * 20001, "The story must be 20,000 characters or fewer"),
    ("story", "Una\u202ehistoria", "Story contains characters we cannot accept"),
    ("pledge_text", "x" * 2001, "The pledge text must be 2,000 characters or fewer"),
    ("demands", "Solo una", "Write the 2 demands, one a line, in the order of the campaign's own"),
    ("demands", "Una\nDos\nTres", "Write the 2 demands, one a line, in the order of the campaign's own"),
    ("share_text", "x" * 281, "The share text must be 280 characters or fewer"),
    ("question", "x" * 201, "The question must be 200 characters or fewer"),
    ("question", "Tu\u0007sector", "The question contains characters we cannot accept"),
    ("choices", "Salud\nEducación", "Write the 3 answers, one a line, in the order of the question's own"),
    ("choices", "Salud\nSalud\nOtro", "Give each answer its own words: two are the same"),
    ("choices", "Salud\n" + "x" * 101 + "\nOtro", "Each answer must be 100 characters or fewer"),
    ("choices", "Salud\nEdu\u0000cación\nOtro", "The answers contain characters we cannot accept"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD_FIELDS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(BAD_FIELDS)])
def test_the_editor_refuses_a_bad_field_with_a_message_beside_it(organiser, campaign, name, value, message):
    question = sector(campaign)
    field = {"question": translations.label_field(question), "choices": translations.choices_field(question)}.get(
        name, name)
    response = save(organiser, "es", **{**form_fields(campaign, "es"), field: value})
    assert response.status_code == 422
    assert_field_error(page(response), field, message)
    assert translations.translation_of(campaign, "es") is None, "nothing is saved"


@pytest.mark.parametrize("junk", ["", " ", "\r\n\r\n", "\x00" * 3, "\ufeff", "x" * 300_000, "<b>", "%00", "\u202e" * 50])
def test_no_input_to_the_editor_gives_a_server_error(organiser, campaign, junk):
    question = sector(campaign)
    for name in (*translations.FIELDS, translations.label_field(question), translations.choices_field(question),
                 "csrf_token"):
        response = save(organiser, "es", **{name: junk})
        assert response.status_code in (303, 400, 422), (name, response.status_code)


@pytest.mark.parametrize(("language", "status"), [("en", 404), ("de", 404), ("xx", 404), ("es", 200)])
def test_the_editor_knows_only_the_sites_other_languages(organiser, campaign, language, status):
    assert organiser.get(editor(language)).status_code == status


def test_the_editor_is_for_members_only_and_needs_the_token(organiser, campaign, client):
    assert client.post(editor("es"), data={"title": "Robado"}).status_code == 400
    assert client.post(f"{editor('es')}/publication", data={"action": "publish"}).status_code == 400
    make_campaign(slug="not-mine")
    assert client.get("/organiser/c/not-mine/languages").status_code == 404
    assert client.get("/organiser/c/not-mine/languages/es").status_code == 404
    assert translations.translation_of(campaign, "es") is None


# --- The campaign's own language ------------------------------------------------------------

def set_default(client, language: str):
    shown = client.get(f"/organiser/c/{SLUG}/languages").get_data(as_text=True)
    return client.post(f"/organiser/c/{SLUG}/languages", data={"language": language,
                                                                  "csrf_token": csrf_token(shown)})


def test_a_campaign_written_in_spanish_says_so_and_its_page_is_spanish(organiser, campaign, client):
    assert set_default(organiser, "es").status_code == 303
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).default_language == "es"
    html = client.get(f"/c/{SLUG}").get_data(as_text=True)
    assert '<html lang="es"' in html and "An ad-free weekend" in html
    assert client.get(f"/es/c/{SLUG}").status_code == 200
    assert client.get(f"/fr/c/{SLUG}").status_code == 302
    languages = organiser.get(f"/organiser/c/{SLUG}/languages").get_data(as_text=True)
    assert 'data-language="en"' in languages and 'data-language="es"' not in languages
    assert organiser.get(editor("es")).status_code == 404
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "campaign.language")).scalar_one()
    assert event.detail == {"language": "es", "from": "en"}


@pytest.mark.parametrize(("language", "message"), [
    ("fr", "That language has a published translation: unpublish it first, then say the campaign is written in it"),
    ("de", "Choose one of the site's languages"),
    ("", "Choose one of the site's languages"),
    ("x" * 5000, "Choose one of the site's languages"),
])
def test_the_campaigns_own_language_cannot_be_one_it_cannot_be(organiser, campaign, language, message):
    translate(campaign, "fr")
    response = set_default(organiser, language)
    assert response.status_code == 422
    assert_field_error(page(response), "language", message)
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).default_language == "en"


# --- The rules, as the service keeps them ---------------------------------------------------------

def test_missing_fields_follow_what_the_campaign_shows(ctx):
    """A freeze needs its statement and next action; a pledge with a date
    question needs that; a field the campaign leaves empty is not needed."""
    freeze = make_campaign(kind=Kind.FREEZE, story="", demands="", statement="Post this.",
                           next_action="Write to them.")
    assert translations.missing_fields(freeze, "es") == ["title", "summary", "pledge_text", "statement",
                                                         "next_action"]
    pledge = make_campaign(asks_date=True, date_question="I will log off from", demands="")
    assert "date_question" in translations.missing_fields(pledge, "fr")
    translations.save_translation(pledge, "fr", {"title": "Titre", "summary": "Résumé", "story": "Histoire",
                                                 "pledge_text": "Je m’engage.", "date_question": "Je pars le"}, {})
    assert translations.missing_fields(pledge, "fr") == []
    translations.publish(pledge, "fr")
    assert translations.campaign_text(pledge, "fr").date_question == "Je pars le"
    assert translations.page_languages(pledge) == ["en", "fr"]


def test_the_demo_campaigns_are_complete_in_spanish_french_and_arabic(ctx, runner):
    runner.invoke(args=["demo", "seed"])
    for campaign in db.session.execute(select(Campaign)).scalars():
        assert campaign.published_languages == ["es", "fr", "ar"], campaign.slug
        for language in ("es", "fr", "ar"):
            assert translations.missing_fields(campaign, language) == [], (campaign.slug, language)
            row = translations.translation_of(campaign, language)
            for name in translations.required_fields(campaign):
                assert translations.checked_text(campaign, name, getattr(row, name)) == getattr(row, name).strip()
    assert db.session.execute(select(CampaignTranslation)).scalars().all().__len__() == 9
    runner.invoke(args=["demo", "seed"])
    assert len(db.session.execute(select(CampaignTranslation)).scalars().all()) == 9, "seeded once"


def test_signing_terms_carry_each_questions_translations(ctx, campaign):
    translate(campaign, "ar")
    terms = signing.signing_terms(SLUG)
    [question] = terms.questions
    assert translations.question_label(question, "ar") == QUESTIONS["ar"][0]
    assert translations.question_choices(question, "ar") == QUESTIONS["ar"][1]
    assert translations.question_label(question, "fr") == "Your sector"
