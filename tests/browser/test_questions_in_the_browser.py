"""An organiser asks signers questions of their own, in a real browser: adds
them in the editor, publishes, a supporter answers them, and the signer
list export has the answers."""
from __future__ import annotations

import csv

import pytest

from campaign import questions
from campaign.models import CampaignStatus

from ..builders import PASSWORD, make_campaign, make_organiser
from .steps import (
    confirmation_email,
    confirmation_link,
    expect,
    field,
    fill_in_the_pledge,
    log_in_as_organiser,
    press,
)

ORGANISER = "org@example.com"
PHONE = {"width": 360, "height": 740}


def add_a_question(page, label: str, kind: str, required: bool = False) -> None:
    """Fill in "Add a question" and press its button."""
    field(page, "Question").fill(label)
    field(page, "Type of answer").select_option(label=kind)
    if required:
        field(page, "Signers must answer it").check()
    press(page, "Add question")
    expect(page.get_by_text(f"Question added: {label}")).to_be_visible()


def member_group(page):
    """The yes/no question: a group of radios named by its legend."""
    return page.get_by_role("group", name="Are you a member?")


@pytest.mark.browser
def test_organiser_adds_questions_a_supporter_answers_and_the_export_has_them(app, site, page, new_page, smtp,
                                                                               deliver):
    """Two questions added in the editor, the campaign published, a supporter
    forgets the required one and is told so beside it, answers, confirms,
    and the organiser's signer list has a column per question with the answers."""
    with app.app_context():
        campaign = make_campaign(slug="tenants-pledge", title="Tenants for clean air", status=CampaignStatus.DRAFT)
        make_organiser(ORGANISER, campaigns=[campaign])

    log_in_as_organiser(page, ORGANISER, PASSWORD)
    page.get_by_role("link", name="Tenants for clean air").click()
    campaign_nav = page.get_by_role("navigation", name="This campaign")
    campaign_nav.get_by_role("link", name="Questions").click()
    expect(page.get_by_role("heading", name="Questions", level=1)).to_be_visible()
    add_a_question(page, "Organisation", "Short text")
    add_a_question(page, "Are you a member?", "Yes or no", required=True)
    expect(page.locator(".question-item strong")).to_have_text(["Organisation", "Are you a member?"])
    campaign_nav.get_by_role("link", name="Dashboard").click()
    press(page, "Publish")
    expect(page.get_by_text("The campaign is now live.")).to_be_visible()

    supporter = new_page(java_script_enabled=False)
    supporter.goto("/c/tenants-pledge")
    fill_in_the_pledge(supporter, first_name="Grace", email="grace@example.com")
    field(supporter, "Organisation (optional)").fill("Riverside Tenants' Union")
    press(supporter, "Sign the pledge")
    summary = supporter.get_by_role("alert")
    expect(summary.get_by_role("link", name="Answer “Are you a member?”")).to_be_visible()
    expect(member_group(supporter)).to_contain_text("Error: Answer “Are you a member?”")
    expect(field(supporter, "Organisation (optional)")).to_have_value("Riverside Tenants' Union")
    member_group(supporter).get_by_label("Yes").check()
    press(supporter, "Sign the pledge")
    expect(supporter.get_by_text("confirmation email is on its way")).to_be_visible()

    assert deliver().sent == 1
    supporter.goto(confirmation_link(confirmation_email(smtp, "grace@example.com")))
    press(supporter, "Confirm my signature")
    expect(supporter.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()

    page.reload()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Full signer list (CSV, personal data)").click()
    with open(downloading.value.path(), encoding="utf-8", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert [(row["given_name"], row["status"], row["Organisation"], row["Are you a member?"]) for row in rows] == [
        ("Grace", "confirmed", "Riverside Tenants' Union", "yes")]


@pytest.mark.browser
def test_phone_user_answers_every_kind_of_question_without_javascript(app, new_page):
    """On a 360 px phone without JavaScript every question is reachable, fits
    across the screen and is named by its label."""
    with app.app_context():
        campaign = make_campaign(slug="phone-questions")
        questions.add_question(campaign, "Organisation", "text")
        questions.add_question(campaign, "Why do you sign?", "long")
        questions.add_question(campaign, "Are you a member?", "yesno", required=True)
        questions.add_question(campaign, "Team size", "choice", choices=["Just me", "2-10", "More"], required=True)
    page = new_page(viewport=PHONE, java_script_enabled=False)
    page.goto("/c/phone-questions")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    controls = [field(page, "Organisation (optional)"), field(page, "Why do you sign? (optional)"),
                member_group(page).get_by_label("Yes"), member_group(page).get_by_label("No"),
                field(page, "Team size")]
    for control in controls:
        expect(control).to_be_visible()
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    expect(field(page, "Team size").locator("option")).to_have_text(["Choose an answer", "Just me", "2-10", "More"])


@pytest.mark.browser
def test_organiser_manages_questions_on_a_phone_without_javascript(app, new_page):
    """The question editor on a 360 px phone without JavaScript: the list, its
    buttons and the form to add fit across the screen; a question is hidden
    and shown again with a button."""
    with app.app_context():
        campaign = make_campaign(slug="phone-editor")
        make_organiser(ORGANISER, campaigns=[campaign])
        questions.add_question(campaign, "A question long enough to wrap over several lines on a narrow phone",
                               "choice", choices=["One answer", "Another answer"])
        questions.add_question(campaign, "Organisation", "text")
    page = new_page(viewport=PHONE, java_script_enabled=False)
    log_in_as_organiser(page, ORGANISER, PASSWORD)
    page.goto("/organiser/c/phone-editor/questions")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for name in ("Hide Organisation", "Move up Organisation", "Add question"):
        expect(page.get_by_role("button", name=name)).to_be_visible()
    press(page, "Hide Organisation")
    expect(page.get_by_text("Hidden from the form: Organisation")).to_be_visible()
    press(page, "Show Organisation")
    expect(page.get_by_text("Shown on the form again: Organisation")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
