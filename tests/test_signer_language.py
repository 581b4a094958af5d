"""The signer's language: a signature (and a business pledge) records the
language of the page it was made on, and every email to that person is
written in it: our words, the campaign's own text in that language, and
links to pages in it. An update is written per language or reaches a
supporter in the default one, and the organiser is told how many; the
signer list and the counts export show the language."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select, update

from campaign import confirm_reminders, counts, freeze_mail, moderation, signing, site_settings
from campaign.extensions import db
from campaign.models import (
    Business,
    Campaign,
    CampaignTranslation,
    CampaignUpdate,
    Kind,
    OutboxMessage,
    OutboxStatus,
    Signature,
)

from .builders import (
    confirm,
    confirm_signature,
    csrf_token,
    fan_out_all,
    form_values,
    hours_from_now,
    log_in,
    make_campaign,
    make_organiser,
    valid_pledge,
)

SITE = "http://campaigns.test"
TITLES = {"en": "Save the park", "es": "Salvemos el parque", "ar": "أنقذوا الحديقة", "fr": "Sauvons le parc"}
# A line of the confirmation email as each catalog has it, written out here
# so that a catalog missing it (English in its place) fails the test.
THANKS = {"es": 'Gracias por firmar "Salvemos el parque".', "ar": "شكرًا لتوقيعكم على «أنقذوا الحديقة»."}
DIRECTIONS = {"es": "ltr", "ar": "rtl"}


def said(language: str, message: str, **values) -> str:
    """``message`` as the catalog of ``language`` says it (inside an app context)."""
    with force_locale(language):
        return gettext(message, **values)


def translated(language: str, title: str) -> dict:
    words = {name: f"{name} ({language})" for name in ("summary", "story", "pledge_text", "share_text",
                                                      "statement", "next_action", "date_question")}
    return {"title": title, "demands": f"First ({language})\nSecond ({language})", **words}


def translated_campaign(slug: str = "park", default: str = "en", published=("es", "ar"), **fields) -> Campaign:
    """A live campaign written in ``default`` and published in each of
    ``published``, every field of each translated."""
    campaign = make_campaign(slug=slug, title=TITLES[default], default_language=default,
                             published_languages=list(published), **fields)
    for language in published:
        db.session.add(CampaignTranslation(campaign_id=campaign.id, language=language,
                                           **translated(language, TITLES[language])))
    db.session.commit()
    return campaign


def sign_on(client, path: str, **fields):
    """Sign as a person would on the page at ``path``: open it, fill the form, send it."""
    page = client.get(path)
    assert page.status_code == 200, path
    data = {k: v for k, v in valid_pledge(**fields).items() if v is not None}
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    return client.post(f"{path}/sign", data=data)


def stored_language(email: str) -> str | None:
    return db.session.execute(select(Signature.language).where(Signature.email == email)).scalar_one()


def supporter(campaign: Campaign, email: str, language: str | None, opt_in: bool = True) -> Signature:
    """A confirmed signer who signed in ``language`` (None: as if from before languages)."""
    signing.sign(campaign, signing.Pledge("Sam", "Signer", email, "GB", None, opt_in, False, language=language))
    signature = db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()
    confirm_signature(signature)
    return signature


def emails_to(smtp, address: str, kind_words: str = "") -> list:
    return [m for m in smtp.to(address) if kind_words in m.subject]


# --- Signing records the language -------------------------------------------------------

@pytest.mark.parametrize("language", ["es", "ar"])
def test_a_supporter_who_signs_in_a_language_reads_the_confirmation_in_it(app, client, smtp, deliver, language):
    """Signing on /es/c/<slug> stores "es"; the confirmation's subject and
    words are Spanish, with the Spanish title and a confirm link under
    /es/, and confirming from it counts the signature (Arabic alike, right
    to left)."""
    with app.app_context():
        campaign_id = translated_campaign().id
    answer = sign_on(client, f"/{language}/c/park", given_name="Ana", email="ana@example.com")
    assert answer.status_code == 200
    with app.app_context():
        assert stored_language("ana@example.com") == language

    assert deliver().sent == 1
    [email] = smtp.to("ana@example.com")
    with app.app_context():
        assert email.subject == said(language, "Confirm your signature: %(title)s", title=TITLES[language])
        hello = said(language, "Hello%(greeting)s,", greeting=" Ana")
    assert TITLES[language] in email.subject
    assert THANKS[language] in email.text
    assert email.text.startswith(hello)
    assert TITLES["en"] not in email.text, "the campaign's text is the translation's"
    link = re.search(rf"{re.escape(SITE)}(/{language}/confirm/[\w.-]+)", email.text)
    assert link, f"no confirm link in /{language}/:\n{email.text}"
    assert f"{SITE}/{language}/c/park" in email.text
    assert f'<html lang="{language}" dir="{DIRECTIONS[language]}">' in email.html
    assert f"{SITE}/{language}/my-data" in email.text, "the footer's links are in the language too"

    confirming = client.get(link.group(1))
    assert confirming.status_code == 200
    assert f'lang="{language}"' in confirming.get_data(as_text=True)
    assert confirm(client, link.group(1)).status_code == 200
    with app.app_context():
        assert counts.signature_count(campaign_id) == 1


def test_an_english_signer_of_a_campaign_written_in_spanish_is_linked_to_its_english_pages(app, client, smtp,
                                                                                          deliver):
    """The address without a language shows a campaign in its own language:
    for a campaign written in Spanish, English (the site's default) is
    /en/c/<slug>. Links to the campaign's pages in an English signer's
    emails say so, not the bare address (which shows them Spanish)."""
    with app.app_context():
        campaign = translated_campaign(default="es", published=("en",))
        make_organiser(campaigns=[campaign])
    assert TITLES["es"] in client.get("/c/park").get_data(as_text=True)
    assert TITLES["en"] in client.get("/en/c/park").get_data(as_text=True)
    assert sign_on(client, "/en/c/park", given_name="Ed", email="ed@example.com", email_opt_in="y").status_code == 200
    deliver()
    [email] = smtp.to("ed@example.com")
    assert f"{SITE}/en/c/park" in email.text and f"{SITE}/c/park" not in email.text
    confirm_path = re.search(rf"{re.escape(SITE)}(/confirm/[\w.-]+)", email.text).group(1)
    assert confirm(client, confirm_path).status_code == 200

    with app.app_context():
        db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
        db.session.commit()
    log_in(client)
    sent = write_update(client, "send")
    confirming = client.get(sent.headers["Location"]).get_data(as_text=True)
    client.post(sent.headers["Location"], data={"csrf_token": csrf_token(confirming)})
    with app.app_context():
        fan_out_all()
    deliver()
    [news] = [m for m in smtp.to("ed@example.com") if m.subject == "News from the park"]
    assert f"{SITE}/en/c/park/impact/" in news.text and f"{SITE}/c/park" not in news.text
    impact = client.get(re.search(rf"{re.escape(SITE)}(/en/c/park/impact/[\w.-]+)", news.text).group(1))
    assert TITLES["en"] in impact.get_data(as_text=True)


def test_the_embedded_form_records_the_language_of_its_page_too(app, client, smtp):
    """The embed page's form posts to its own address: /es/c/<slug>/embed/sign
    records Spanish like the campaign page does."""
    with app.app_context():
        translated_campaign(embed_anyone=True)
    page = client.get("/es/c/park/embed")
    assert page.status_code == 200
    data = {**form_values(page.get_data(as_text=True)), **valid_pledge(email="emb@example.com")}
    data = {k: v for k, v in data.items() if v is not None}
    assert client.post("/es/c/park/embed/sign", data=data).status_code == 200
    with app.app_context():
        assert stored_language("emb@example.com") == "es"


@pytest.mark.parametrize("path", ["/c/parc", "/ar/c/parc"], ids=["no-language", "not-published"])
def test_a_form_sent_in_no_published_language_signs_in_the_default(app, client, path):
    """The address without a language is the campaign's default; one in a
    language the campaign is not published in (an old page, a made-up
    address) signs in the default too."""
    with app.app_context():
        translated_campaign(slug="parc", default="fr", published=("es",))
    page = client.get("/c/parc")
    data = {**valid_pledge(email="x@example.com"), "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert client.post(f"{path}/sign", data=data).status_code == 200
    with app.app_context():
        assert stored_language("x@example.com") == "fr"


def test_signing_again_while_pending_takes_the_new_language_and_once_confirmed_keeps_it(app, client, smtp, deliver):
    """Like the other choices: the latest signing of a pending signature is
    the one its emails follow; a confirmed one keeps its language."""
    with app.app_context():
        translated_campaign()
    sign_on(client, "/es/c/park", email="maybe@example.com")
    sign_on(client, "/ar/c/park", email="maybe@example.com")
    with app.app_context():
        assert stored_language("maybe@example.com") == "ar"
        signature = db.session.execute(select(Signature).where(Signature.email == "maybe@example.com")).scalar_one()
        confirm_signature(signature)
    smtp.reset()
    db_path = sign_on(client, "/es/c/park", email="maybe@example.com")
    assert db_path.status_code == 200
    deliver()
    with app.app_context():
        assert stored_language("maybe@example.com") == "ar"
        [note] = [m for m in smtp.to("maybe@example.com") if TITLES["ar"] in m.subject]
        assert note.subject == said("ar", "You have already signed: %(title)s", title=TITLES["ar"])


@pytest.mark.parametrize("stored", [None, "ar"], ids=["none-recorded", "no-longer-published"])
def test_a_signature_in_no_language_the_campaign_speaks_gets_the_default(app, smtp, deliver, stored):
    """A signature from before languages were recorded (or in a language the
    campaign has since unpublished) is written to in the campaign's default
    language, here French: its words, its title, links under /fr/."""
    with app.app_context():
        campaign = translated_campaign(slug="parc", default="fr", published=("es",))
        signing.sign(campaign, signing.Pledge("Léa", "Martin", "lea@example.com", "FR", None, False, False,
                                              language=stored))
        db.session.commit()
    deliver()
    [email] = smtp.to("lea@example.com")
    with app.app_context():
        assert email.subject == said("fr", "Confirm your signature: %(title)s", title=TITLES["fr"])
        assert said("fr", 'Thank you for signing "%(title)s".', title=TITLES["fr"]) in email.text
    assert "Merci" in email.text
    assert re.search(rf"{re.escape(SITE)}/fr/confirm/[\w.-]+", email.text)
    assert '<html lang="fr" dir="ltr">' in email.html


def test_one_batch_writes_each_language_once_and_each_reader_in_theirs(app, smtp, deliver):
    """Confirmations of one campaign in three languages, sent in one batch:
    each signer reads their own (the mail merge is per campaign and language)."""
    with app.app_context():
        campaign = translated_campaign()
        for n, language in enumerate(["es", "ar", "en", None, "es"]):
            signing.sign(campaign, signing.Pledge("Sam", "Signer", f"s{n}@example.com", "GB", None, False, False,
                                                  language=language))
        db.session.commit()
    assert deliver().sent == 5
    titles = {m.to: next(t for language, t in TITLES.items() if t in m.subject) for m in smtp.received}
    assert titles == {"s0@example.com": TITLES["es"], "s1@example.com": TITLES["ar"], "s2@example.com": TITLES["en"],
                      "s3@example.com": TITLES["en"], "s4@example.com": TITLES["es"]}


def test_the_reminder_to_confirm_is_in_the_signers_language(app, client, smtp, deliver, monkeypatch):
    with app.app_context():
        translated_campaign()
    sign_on(client, "/es/c/park", email="later@example.com")
    deliver()
    smtp.reset()
    monkeypatch.setattr(confirm_reminders, "SCAN_EVERY_SECONDS", 0)
    monkeypatch.setattr(confirm_reminders, "clock", lambda: hours_from_now(25))
    deliver()
    [reminder] = smtp.to("later@example.com")
    assert reminder.subject == "Recordatorio: confirma tu firma de Salvemos el parque"
    link = re.search(rf"{re.escape(SITE)}(/es/confirm/[\w.-]+)", reminder.text)
    assert link and confirm(client, link.group(1)).status_code == 200


# --- Businesses ------------------------------------------------------------------------

def test_a_business_pledged_in_spanish_is_asked_to_confirm_in_spanish(app, client, smtp, deliver):
    with app.app_context():
        translated_campaign(kind=Kind.BOYCOTT)
    page = client.get("/es/c/park")
    answer = client.post("/es/c/park/business", data={
        "business-organisation": "Panadería Sol", "business-website": "https://sol.example",
        "business-contact_email": "hola@sol.example", "business-company_size": "1-9",
        "business-csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.execute(select(Business.language)).scalar_one() == "es"
    deliver()
    [email] = smtp.to("hola@sol.example")
    assert email.subject == "Confirma el compromiso de tu empresa: Salvemos el parque"
    assert "Confirmar nuestro compromiso" in email.html
    assert re.search(rf"{re.escape(SITE)}/es/business/confirm/[\w.-]+", email.text)
    assert re.search(rf"{re.escape(SITE)}/es/business/extend/[\w.-]+", email.text)


# --- A freeze's reminders ----------------------------------------------------------------

def test_a_freeze_reminds_each_signer_in_their_language_dates_included(app, smtp, deliver, monkeypatch):
    with app.app_context():
        campaign = translated_campaign(kind=Kind.FREEZE, statement="Quiet for a day.", time_zone="Europe/Madrid",
                                       window_start=dt.datetime(2099, 6, 1, 12),
                                       window_end=dt.datetime(2099, 6, 2, 12))
        for email, language in (("es@example.com", "es"), ("en@example.com", "en")):
            signing.sign(campaign, signing.Pledge("Ana", "Ruiz", email, "ES", None, False, False,
                                                  reminder_opt_in=True, language=language))
            signature = db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()
            db.session.commit()
            signing.confirm(signature.id, signing.Choices("Ana", "Ruiz", "ES", False, False, reminder_opt_in=True))
    smtp.reset()
    monkeypatch.setattr(freeze_mail, "clock", lambda: dt.datetime(2099, 5, 31, 12, 0))
    deliver()
    [spanish] = smtp.to("es@example.com")
    [english] = smtp.to("en@example.com")
    assert spanish.subject == "Mañana: Salvemos el parque"
    assert "statement (es)" in spanish.text, "the statement to post is the translation's"
    assert "lunes, 1 de junio de 2099" in spanish.text, "the date in Spanish"
    assert "Monday, June 1, 2099" in english.text and "Quiet for a day." in english.text
    assert re.search(rf"{re.escape(SITE)}/es/unsubscribe/[\w.-]+", spanish.text)


# --- Updates ---------------------------------------------------------------------------

@pytest.fixture
def audience(app):
    """A campaign in English, published in Spanish and Arabic, with
    opted-in supporters who signed in Spanish (2), Arabic (1), English (1)
    and before languages were recorded (1), and one who did not opt in."""
    with app.app_context():
        campaign = translated_campaign()
        make_organiser(campaigns=[campaign])
        for email, language in (("es1@example.com", "es"), ("es2@example.com", "es"), ("ar1@example.com", "ar"),
                                ("en1@example.com", "en"), ("old@example.com", None)):
            supporter(campaign, email, language)
        supporter(campaign, "quiet@example.com", "ar", opt_in=False)
        db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
        db.session.commit()
        return campaign.id


def write_update(client, action: str, **fields):
    page = client.get("/organiser/c/park/updates/new")
    data = {"subject": "News from the park", "body": "We **did it**.", "action": action,
            "csrf_token": csrf_token(page.get_data(as_text=True)), **fields}
    return client.post("/organiser/c/park/updates/new", data=data)


SPANISH = {"subject_es": "Noticias del parque", "body_es": "¡Lo **logramos**!"}


def test_an_update_with_a_spanish_version_reaches_each_supporter_in_their_language(app, client, smtp, deliver,
                                                                                   audience):
    """Spanish signers get the Spanish version; everyone else the English
    one, in an email whose own words and links are in their language; the
    step before sending says how many get the fallback."""
    log_in(client)
    form = client.get("/organiser/c/park/updates/new").get_data(as_text=True)
    assert 'name="subject_es"' in form and 'name="body_ar"' in form and 'name="subject_en"' not in form
    sent = write_update(client, "send", **SPANISH)
    assert sent.status_code == 303
    with app.app_context():
        row = db.session.execute(select(CampaignUpdate)).scalar_one()
        assert row.translations == {"es": {"subject": "Noticias del parque", "body": "¡Lo **logramos**!"}}
    confirming = client.get(sent.headers["Location"]).get_data(as_text=True)
    with app.app_context(), app.test_request_context():
        fallback = ngettext("%(num)s supporter who signed in %(language)s will get the %(default)s version.",
                            "%(num)s supporters who signed in %(language)s will get the %(default)s version.",
                            1, language="Arabic", default="English")
    assert fallback == "1 supporter who signed in Arabic will get the English version."
    assert fallback in confirming
    assert "Spanish" not in confirming.split("will get")[0].rsplit("</strong>", 1)[-1], \
        "no note for the Spanish signers: they have their version"
    assert "Noticias del parque" in confirming
    assert "Yes, send now to 5 supporters" in confirming

    client.post(sent.headers["Location"], data={"csrf_token": csrf_token(confirming)})
    with app.app_context():
        fan_out_all()
    deliver()
    subjects = {m.to: m.subject for m in smtp.received}
    assert subjects == {"es1@example.com": "Noticias del parque", "es2@example.com": "Noticias del parque",
                        "ar1@example.com": "News from the park", "en1@example.com": "News from the park",
                        "old@example.com": "News from the park"}
    [spanish] = smtp.to("es1@example.com")
    assert "¡Lo <strong>logramos</strong>!" in spanish.html and "Hola, Sam:" in spanish.text
    assert TITLES["es"] in spanish.text and f"{SITE}/es/c/park" in spanish.text
    assert re.search(rf"{re.escape(SITE)}/es/unsubscribe/", spanish.message["List-Unsubscribe"])
    assert re.search(rf"{re.escape(SITE)}/es/c/park/impact/", spanish.text)
    [arabic] = smtp.to("ar1@example.com")
    assert "We <strong>did it</strong>." in arabic.html, "no Arabic version: the English one"
    assert "مرحبًا Sam،" in arabic.text and TITLES["ar"] in arabic.text
    assert re.search(rf"{re.escape(SITE)}/ar/unsubscribe/", arabic.message["List-Unsubscribe"])
    [old] = smtp.to("old@example.com")
    assert "Hello Sam," in old.text and re.search(rf"{re.escape(SITE)}/unsubscribe/", old.text)


def test_an_update_in_every_language_leaves_nobody_on_the_fallback(app, client, audience):
    log_in(client)
    sent = write_update(client, "send", **SPANISH, subject_ar="أخبار الحديقة", body_ar="لقد نجحنا.")
    confirming = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "will get the" not in confirming
    assert "أخبار الحديقة" in confirming


def test_the_test_copy_and_the_preview_show_each_version(app, client, smtp, deliver, audience):
    log_in(client)
    preview = write_update(client, "preview", **SPANISH).get_data(as_text=True)
    assert "Preview: English" in preview and "Preview: Spanish" in preview and "Noticias del parque" in preview
    write_update(client, "test", **SPANISH)
    deliver()
    assert sorted(m.subject for m in smtp.to("org@example.com")) == ["[Test] News from the park",
                                                                      "[Test] Noticias del parque"]


SUBJECT_ES, BODY_ES = "subject_es", "body_es"
VERSION_TABLE = [
    ({SUBJECT_ES: "Noticias"}, "Write the update in Spanish too, or leave its subject empty"),
    ({SUBJECT_ES: "Noticias", BODY_ES: "  \n "}, "Write the update in Spanish too, or leave its subject empty"),
    ({BODY_ES: "Texto"}, "Enter a subject in Spanish too, or leave its body empty"),
    ({SUBJECT_ES: "   ", BODY_ES: "Texto"}, "Enter a subject in Spanish too, or leave its body empty"),
    ({SUBJECT_ES: "N" * 201, BODY_ES: "Texto"}, "The subject must be 200 characters or fewer"),
    ({SUBJECT_ES: "Noticias", BODY_ES: "T" * 50001}, "The body must be 50,000 characters or fewer"),
    ({SUBJECT_ES: "Noti\x07cias", BODY_ES: "Texto"}, "Subject in Spanish contains characters we cannot accept"),
    ({SUBJECT_ES: "Noticias\x00", BODY_ES: "Texto"}, "Subject in Spanish contains characters we cannot accept"),
    ({SUBJECT_ES: "Noticias", BODY_ES: "Te\x1bxto"}, "Body in Spanish contains characters we cannot accept"),
    ({"subject_ar": "أخبار"}, "Write the update in Arabic too, or leave its subject empty"),
]


@pytest.mark.parametrize("fields, message", VERSION_TABLE,
                         ids=["subject-only", "blank-body", "body-only", "blank-subject", "long-subject", "long-body",
                              "bell-in-subject", "nul-in-subject", "escape-in-body", "arabic-subject-only"])
@pytest.mark.parametrize("action", ["preview", "send"])
def test_a_version_in_another_language_is_checked_like_the_default(app, client, audience, fields, message, action):
    """Each bad version is sent back (422) with its message beside the
    field, and nothing is stored."""
    log_in(client)
    answer = write_update(client, action, **fields)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(CampaignUpdate)).first() is None


def test_the_versions_are_optional_and_a_campaign_in_one_language_has_none(app, client, audience):
    log_in(client)
    assert write_update(client, "send").status_code == 303
    with app.app_context():
        assert db.session.execute(select(CampaignUpdate.translations)).scalar_one() is None
        only_english = make_campaign(slug="plain")
        make_organiser("plain@example.com", campaigns=[only_english])
    log_in(client, "plain@example.com")
    form = client.get("/organiser/c/plain/updates/new").get_data(as_text=True)
    assert 'name="subject_' not in form and "other languages" not in form


def test_milestone_emails_are_written_in_each_supporters_language(app, smtp, deliver):
    with app.app_context():
        campaign = translated_campaign(goal=2, milestone_emails=True)
        supporter(campaign, "es@example.com", "es")
        supporter(campaign, "en@example.com", None)
        db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
        db.session.commit()
    deliver()
    [spanish] = emails_to(smtp, "es@example.com", TITLES["es"])
    [english] = emails_to(smtp, "en@example.com", TITLES["en"])
    assert english.subject == "We reached 2 signatures: Save the park"
    with app.app_context():
        assert spanish.subject == said("es", "We reached %(count)s signatures: %(title)s", count="2",
                                       title=TITLES["es"])
        row = db.session.execute(select(CampaignUpdate)).scalar_one()
        assert row.subject == english.subject and set(row.translations) == {"es", "ar"}
    assert TITLES["es"] in spanish.text and "Hola, Sam:" in spanish.text


# --- Exports ---------------------------------------------------------------------------

@pytest.fixture
def languages_signed(app):
    """Confirmed signatures in Spanish (3), Arabic (1), English (1) and
    none recorded (2, the default English); a pending Spanish one, an
    invalidated Arabic one, and another campaign's."""
    with app.app_context():
        campaign = translated_campaign()
        make_organiser(campaigns=[campaign])
        for n, language in enumerate(["es", "es", "es", "ar", "en", None, None]):
            supporter(campaign, f"c{n}@example.com", language)
        signing.sign(campaign, signing.Pledge("Pat", "Pending", "p@example.com", "GB", None, False, False,
                                              language="es"))
        supporter(campaign, "bad@example.com", "ar")
        db.session.commit()
        moderation.invalidate(campaign, moderation.Criteria(email="bad@example.com"), None, "duplicate")
        supporter(translated_campaign(slug="other"), "o@example.com", "ar")
        return campaign.id


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_counts_by_language_match_the_confirmed_signatures(app, client, runner, languages_signed, fmt):
    """Web and command line agree: confirmed only, none recorded counted as the default."""
    log_in(client)
    response = client.get(f"/organiser/c/park/export/counts?by=language&format={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="park-signatures-by-language.{fmt}"'
    body = response.get_data(as_text=True)
    result = runner.invoke(args=["campaign", "export", "park", "--by", "language", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.output == body
    # Most first; a tie in the order of the languages' codes.
    expected = [{"language": "en", "signatures": 3}, {"language": "es", "signatures": 3},
                {"language": "ar", "signatures": 1}]
    if fmt == "csv":
        assert body == "language,signatures\nen,3\nes,3\nar,1\n"
    else:
        assert json.loads(body) == expected


def test_the_dashboard_links_to_the_counts_by_language(app, client, languages_signed):
    log_in(client)
    page = client.get("/organiser/c/park/").get_data(as_text=True)
    assert "/organiser/c/park/export/counts?by=language&amp;format=csv" in page


def test_the_signer_list_says_each_signatures_language(app, client, languages_signed):
    """The language column, the campaign's default where none was recorded;
    the PostgreSQL and portable paths write the same bytes."""
    log_in(client)
    response = client.get("/organiser/c/park/export/signers.csv")
    body = response.get_data(as_text=True)
    response.close()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [(row["email"], row["language"]) for row in rows] == [
        ("c0@example.com", "es"), ("c1@example.com", "es"), ("c2@example.com", "es"), ("c3@example.com", "ar"),
        ("c4@example.com", "en"), ("c5@example.com", "en"), ("c6@example.com", "en"), ("p@example.com", "es"),
        ("bad@example.com", "ar")]


def test_both_ways_of_writing_the_signer_list_give_the_same_languages(app, languages_signed, backend):
    from campaign import exports
    with app.app_context():
        header = exports.SIGNER_COLUMNS
        portable = "".join(exports._signers_in_batches(languages_signed, 2, header, [], []))
        chosen = "".join(c.decode() if isinstance(c, bytes) else c for c in exports.stream_signers(languages_signed))
        db.session.rollback()
    assert chosen == (portable if backend == "sqlite" else portable.replace("\r\n", "\n"))


# --- Manage my data ----------------------------------------------------------------------

def test_the_link_to_ones_data_comes_in_the_language_it_was_asked_in(app, client, smtp, deliver):
    with app.app_context():
        supporter(translated_campaign(), "ana@example.com", "es")
    smtp.reset()
    page = client.get("/ar/my-data")
    assert page.status_code == 200
    client.post("/ar/my-data", data={"email": "ana@example.com",
                                      "csrf_token": csrf_token(page.get_data(as_text=True))})
    deliver()
    [email] = smtp.to("ana@example.com")
    with app.app_context():
        assert email.subject == said("ar", "Your link to the data %(site)s holds about you",
                                     site=site_settings.site().name)
        assert said("ar", "See my data") in email.html
    assert re.search(rf"{re.escape(SITE)}/ar/my-data/[\w.-]+", email.text)
    assert '<html lang="ar" dir="rtl">' in email.html
    assert email.message["Content-Language"] == "ar"


@pytest.mark.parametrize("subject", [
    "رابطكم إلى البيانات التي يحتفظ بها Campaign site عنكم",
    "Tu enlace a los datos que Campaign site guarda sobre ti: consúltalos, descárgalos o bórralos",
    "A subject in plain English that is long enough to be folded over two lines of the header",
])
def test_a_long_subject_in_any_script_reads_as_written(app, subject):
    """Folded without its name, a long Arabic subject began with an empty
    line, which mail readers show as a leading space."""
    from email import message_from_bytes, policy

    from campaign.mail_merge import MailMerge, single_email
    with app.app_context():
        built = [single_email("ana@example.com", subject, "text", "<p>html</p>"),
                 MailMerge(subject, "text", "<p>html</p>", ()).message("ana@example.com", {})]
    for email in built:
        assert message_from_bytes(email.raw, policy=policy.default)["Subject"] == subject
