"""A supporter on a 360 px phone signs a demo campaign in their own
language, Arabic (right to left) or Spanish: the page, the form's labels
and buttons, the confirmation email read at /dev/mail, the confirmation
page and the count, all in that language. An organiser writes an update
in two languages and is told who will read the default one."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from campaign import countries, demo, formats, signing, translations
from campaign.extensions import db
from campaign.models import Campaign, Signature

from ..builders import PASSWORD, confirm_signature, make_organiser
from .steps import expect, field, log_in_as_organiser, press, write_an_update
from .test_accessibility import AxeChecks
from .test_my_data_in_the_browser import PHONE, caught, fits_the_phone, site  # noqa: F401 (site: the fixture)

SLUG = "stop-hate-for-profit"
# What each reader sees, from our catalogs and the demo's own translation.
COUNTRY = {"ar": "EG", "es": "ES"}
DIRECTION = {"ar": "rtl", "es": "ltr"}
ORGANISER = "org@example.com"


def said(app, language: str, message: str, **values) -> str:
    """``message`` as a reader of ``language`` reads it on the site."""
    with app.app_context(), force_locale(language):
        return gettext(message, **values)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["ar", "es"])
def test_supporter_signs_in_their_language_on_a_phone_and_confirms_from_the_email(app, site, new_page,  # noqa: F811
                                                                                 deliver, language):
    """Someone opens the demo boycott's page in their language, signs it
    by its labels and button, reads the confirmation email in the same
    language at /dev/mail, confirms from its link and sees the count."""
    with app.app_context():
        demo.seed_demo_campaigns()
        campaign = db.session.execute(db.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        assert language in campaign.published_languages
        title = translations.campaign_text(campaign, language).title
        with force_locale(language):
            country = countries.local_name(COUNTRY[language], language)
            one = formats.number(1)
    page = new_page(viewport=PHONE)

    page.goto(f"/{language}/c/{SLUG}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[language])
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    fits_the_phone(page)
    field(page, said(app, language, "First name")).fill("Layla")
    field(page, said(app, language, "Last name")).fill("Haddad")
    field(page, said(app, language, "Email")).fill("layla@example.org")
    field(page, said(app, language, "Country")).select_option(label=country)
    press(page, said(app, language, "Sign the pledge"))
    expect(page.get_by_role("heading", name=said(app, language, "Check your email"))).to_be_visible()
    fits_the_phone(page)
    with app.app_context():
        stored = db.session.execute(db.select(Signature.language).where(
            Signature.email == "layla@example.org")).scalar_one()
    assert stored == language

    deliver()
    subject = said(app, language, "Confirm your signature: %(title)s", title=title)
    page.goto(f"/{language}/dev/mail")
    page.get_by_role("link", name=subject).first.click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    thanks = said(app, language, 'Thank you for signing "%(title)s".', title=title)
    expect(page.get_by_text(thanks)).to_be_visible()
    [email] = [m for m in caught(site) if m.subject == subject]
    assert f'<html lang="{language}" dir="{DIRECTION[language]}">' in email.html
    page.get_by_role("link", name=re.compile(rf"\/{language}\/confirm\/")).first.click()

    expect(page.get_by_role("heading", name=said(app, language, "Confirm your signature"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    fits_the_phone(page)
    press(page, said(app, language, "Confirm my signature"))
    expect(page.get_by_role("heading", name=said(app, language, "Your signature is confirmed"))).to_be_visible()
    fits_the_phone(page)

    page.get_by_role("link", name=said(app, language, "Back to the campaign")).click()
    expect(page).to_have_url(f"{site.url}/{language}/c/{SLUG}")
    count = page.get_by_role("region", name=said(app, language, "Signatures")).get_by_role("status")
    expect(count).to_have_text(one)


@pytest.mark.browser
def test_organiser_writes_an_update_in_spanish_too_and_learns_who_gets_english(app, site, new_page,  # noqa: F811
                                                                               deliver):
    """On the demo boycott (published in Spanish, French and Arabic) an
    organiser, on a phone, writes an update in English and in Spanish;
    before sending they read that the supporter who signed in Arabic will
    get the English one; each supporter then gets their version. Both pages
    pass axe and fit the screen."""
    with app.app_context():
        demo.seed_demo_campaigns()
        campaign = db.session.execute(db.select(Campaign).where(Campaign.slug == SLUG)).scalar_one()
        make_organiser(ORGANISER, campaigns=[campaign])
        for address, language in (("ana@example.org", "es"), ("layla@example.org", "ar")):
            signing.sign(campaign, signing.Pledge("Sam", "Signer", address, "GB", None, True, False,
                                                  language=language))
            confirm_signature(db.session.execute(db.select(Signature).where(
                Signature.email == address)).scalar_one())
    deliver()
    page = new_page(viewport=PHONE)
    axe = AxeChecks(page)

    log_in_as_organiser(page, ORGANISER, PASSWORD)
    page.goto(f"/organiser/c/{SLUG}/updates/new")
    for language in ("Spanish", "French", "Arabic"):
        expect(page.get_by_role("group", name=language)).to_be_visible()
    write_an_update(page, "The first brands are back", "Thank you: **twelve brands** paused.")
    field(page, "Subject in Spanish (optional)").fill("Las primeras marcas han vuelto")
    field(page, "Body in Spanish (optional)").fill("Gracias: **doce marcas** hicieron la pausa.")
    axe.check("the update form with a version in Spanish")
    fits_the_phone(page)
    press(page, "Send to 2 supporters")
    expect(page.get_by_role("heading", name="Send the update?")).to_be_visible()
    expect(page.get_by_text("1 supporter who signed in Arabic will get the English version.")).to_be_visible()
    expect(page.get_by_text("Las primeras marcas han vuelto")).to_be_visible()
    axe.check("the step before sending, with who gets the default version")
    fits_the_phone(page)
    page.get_by_role("button", name="Yes, send now to 2 supporters").click()
    expect(page.get_by_text("Your update is on its way.")).to_be_visible()
    axe.assert_no_violations()

    deliver()
    received = {(m.to, m.subject) for m in caught(site)}
    assert ("ana@example.org", "Las primeras marcas han vuelto") in received
    assert ("layla@example.org", "The first brands are back") in received
