"""An organiser writes, previews, tests and sends an update in a real
browser; a supporter leaves with one click; markup never runs."""
from __future__ import annotations

import re

import pytest

from ..builders import PASSWORD, confirmed_signatures, make_campaign, make_organiser
from .steps import (
    emails_with_subject,
    expect,
    figure,
    log_in_as_organiser,
    press,
    send_the_update,
    unsubscribe_link,
    write_an_update,
)

ORGANISER = "org@example.com"


def _live_campaign_with_supporters(app, deliver, smtp, title, supporters):
    """A live campaign, its organiser, and confirmed supporters whose
    confirmation emails have already gone out."""
    with app.app_context():
        campaign = make_campaign(title=title)
        make_organiser(ORGANISER, campaigns=[campaign])
        confirmed_signatures(campaign, supporters)
        slug = campaign.slug
    deliver()
    smtp.reset()
    return slug


def _open_new_update(page, title):
    """From 'Your campaigns' to the new-update form of one campaign."""
    page.get_by_role("link", name=title).click()
    page.get_by_role("link", name="Updates", exact=True).click()
    expect(page.get_by_role("heading", name="Updates to supporters")).to_be_visible()
    page.get_by_role("link", name="New update").click()
    expect(page.get_by_role("heading", name="New update")).to_be_visible()


@pytest.mark.browser
def test_organiser_writes_previews_and_sends_an_update_and_a_supporter_leaves_with_one_click(
        app, site, page, new_page, smtp, deliver):
    """The organiser previews an update (HTML and plain text), sends a test to
    themselves, then sends it to both supporters; one supporter follows the
    emailed unsubscribe link in a fresh browser, leaves with one click, and
    the next update reaches only the other."""
    title = "Bring back the bus"
    _live_campaign_with_supporters(app, deliver, smtp, title,
                                   [("a@example.com", "GB", True), ("b@example.com", "FR", True)])
    subject = "We met the council"
    body = "The council **listened**.\n\nNext: the vote on Tuesday."

    log_in_as_organiser(page, ORGANISER, PASSWORD)
    _open_new_update(page, title)
    expect(page.get_by_text("It will go to 2 supporters")).to_be_visible()
    write_an_update(page, subject, body)
    press(page, "Preview")

    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_text("2 recipients")).to_be_visible()
    expect(preview.locator("strong").first).to_have_text(subject)
    expect(preview.get_by_title("HTML version")).to_be_visible()
    html_version = page.frame_locator('iframe[title="HTML version"]')
    expect(html_version.get_by_text("Hello Org,")).to_be_visible()
    expect(html_version.locator("strong")).to_have_text("listened")
    expect(html_version.get_by_role("link", name="Unsubscribe with one click")).to_be_visible()
    plain_text = preview.locator("pre")
    expect(plain_text).to_contain_text("Hello Org,")
    expect(plain_text).to_contain_text("The council **listened**.")
    expect(plain_text).to_contain_text("Unsubscribe with one click: ")
    assert deliver().sent == 0, "previewing sends nothing"

    press(page, "Send a test to me")
    expect(page.get_by_text(f"A test is on its way to {ORGANISER}.")).to_be_visible()
    assert deliver().sent == 1
    [test] = smtp.to(ORGANISER)
    assert test.subject == f"[Test] {subject}"
    assert smtp.to("a@example.com") == [] and smtp.to("b@example.com") == []

    send_the_update(page, recipients=2)
    first_update_url = page.url
    assert deliver().sent == 2
    for address in ("a@example.com", "b@example.com"):
        [email] = emails_with_subject(smtp, address, subject)
        message = email.message
        assert message.is_multipart()
        assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}
        assert email.text.startswith("Hello Sam,")
        assert "Hello Sam," in email.html
        link = unsubscribe_link(email)
        assert link.startswith(f"{site.url}/unsubscribe/")
        # A long header is folded; Python's parser keeps the fold's leading space.
        assert message["List-Unsubscribe"].strip() == f"<{link}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [to_a] = emails_with_subject(smtp, "a@example.com", subject)

    supporter = new_page()
    supporter.goto(unsubscribe_link(to_a))
    expect(supporter.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    expect(supporter.get_by_text(f"Stop receiving updates about {title}?")).to_be_visible()
    page.get_by_role("link", name="Updates", exact=True).click()
    page.get_by_role("link", name="New update").click()
    expect(page.get_by_text("It will go to 2 supporters")).to_be_visible()  # opening the link changed nothing

    press(supporter, "Unsubscribe from this campaign")
    expect(supporter.get_by_role("heading", name="You have unsubscribed")).to_be_visible()
    expect(supporter.get_by_text(f"You will get no more updates about {title}.")).to_be_visible()

    page.reload()
    expect(page.get_by_text("It will go to 1 supporter:")).to_be_visible()
    write_an_update(page, "The vote is on", "Come along on Tuesday.")
    send_the_update(page, recipients=1)
    assert deliver().sent == 1
    assert emails_with_subject(smtp, "b@example.com", "The vote is on") != []
    assert emails_with_subject(smtp, "a@example.com", "The vote is on") == []

    page.get_by_role("link", name="All updates").click()
    page.get_by_role("link", name=subject).click()
    expect(page).to_have_url(first_update_url)
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    expect(figure(page, "sent")).to_have_text("2")
    expect(figure(page, "queued")).to_have_text("0")
    expect(figure(page, "failed")).to_have_text("0")


XSS_SUBJECT = "<img src=x onerror=window.__xss=1>"
XSS_BODY = "Hello <script>window.__xss=2</script> there.\n\n[Click me](javascript:window.__xss=3)"


@pytest.mark.browser
def test_stored_xss_in_an_update_subject_and_body_is_escaped(app, site, page, smtp, deliver):
    """An update whose subject and body are markup is shown as text on the
    preview, the confirmation step, the list and the progress page, and the
    delivered email runs nothing either."""
    title = "No scripts in updates"
    _live_campaign_with_supporters(app, deliver, smtp, title, [("a@example.com", "GB", True)])

    log_in_as_organiser(page, ORGANISER, PASSWORD)
    _open_new_update(page, title)
    write_an_update(page, XSS_SUBJECT, XSS_BODY)
    press(page, "Preview")

    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_text(XSS_SUBJECT)).to_be_visible()
    expect(preview.get_by_title("HTML version")).to_have_attribute("sandbox", "")  # no scripts even if one slipped in
    expect(page.locator("main img")).to_have_count(0)
    html_version = page.frame_locator('iframe[title="HTML version"]')
    expect(html_version.get_by_text("Hello <script>window.__xss=2</script> there.")).to_be_visible()
    expect(html_version.locator("script, img")).to_have_count(0)
    expect(html_version.locator('a[href^="javascript"]')).to_have_count(0)
    expect(preview.locator("pre")).to_contain_text(XSS_BODY)
    assert page.evaluate("window.__xss") is None

    press(page, "Send to 1 supporter")
    expect(page.get_by_role("heading", name="Send the update?")).to_be_visible()
    expect(page.get_by_text(XSS_SUBJECT)).to_be_visible()
    assert page.evaluate("window.__xss") is None
    page.get_by_role("button", name=re.compile(r"\bsend\b", re.IGNORECASE)).click()

    expect(page.get_by_role("heading", name=XSS_SUBJECT)).to_be_visible()
    expect(page).to_have_title(re.compile(re.escape(XSS_SUBJECT)))
    expect(page.locator("main img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
    assert deliver().sent == 1
    page.reload()
    expect(figure(page, "sent")).to_have_text("1")
    page.get_by_role("link", name="All updates").click()
    expect(page.get_by_role("link", name=XSS_SUBJECT)).to_be_visible()
    assert page.evaluate("window.__xss") is None

    [email] = emails_with_subject(smtp, "a@example.com", XSS_SUBJECT)
    page.set_content(email.html)
    expect(page.get_by_text("Hello <script>window.__xss=2</script> there.")).to_be_visible()
    expect(page.locator("script, img")).to_have_count(0)
    expect(page.locator('a[href^="javascript"]')).to_have_count(0)
    page.get_by_text("Click me").click()
    assert page.evaluate("window.__xss") is None
