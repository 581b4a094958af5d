"""Steps a person takes on the site, shared by the browser tests."""
from __future__ import annotations

import re

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails) and says why
    expect = None

# A label's text as a person reads it; "Email" alone would also match
# "Email me updates about this campaign" without exact matching.
PLEDGE_LABELS = [
    "First name",
    "Last name",
    "Email",
    "Country",
    "Postcode (optional)",
    "Email me updates about this campaign",
    "Show my first name on the public list",
]
BUSINESS_LABELS = ["Organisation", "Website", "Contact email", "Company size",
                   "First day of the pause (optional)", "Last day of the pause (optional)"]

_CONFIRM_URL = re.compile(r"https?://\S+/confirm/[\w.-]+")


def field(page, label: str):
    """The form control a person finds by its label."""
    return page.get_by_label(label, exact=True)


def fill_in_the_pledge(
    page,
    *,
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    email: str = "ada@example.com",
    country: str = "United Kingdom",
    show_name: bool = True,
) -> None:
    field(page, "First name").fill(first_name)
    field(page, "Last name").fill(last_name)
    field(page, "Email").fill(email)
    field(page, "Country").select_option(label=country)
    if show_name:
        field(page, "Show my first name on the public list").check()


def press(page, button: str) -> None:
    page.get_by_role("button", name=button).click()


def confirmation_email(smtp, address: str):
    """The one confirmation email sent to ``address``."""
    [email] = [m for m in smtp.to(address) if m.subject.startswith("Confirm your signature")]
    return email


def confirm_the_business_pledge(page, smtp, deliver, address: str) -> None:
    """The business's contact opens the emailed link and presses the button."""
    deliver()
    [email] = [m for m in smtp.to(address) if m.subject.startswith("Confirm")]
    match = re.search(r"https?://\S+/business/confirm/\S+", email.text)
    assert match, f"no confirmation link in the email:\n{email.text}"
    page.goto(match.group(0))
    press(page, "Confirm our pledge")
    expect(page.get_by_role("heading", name="Your pledge is confirmed")).to_be_visible()


def confirmation_link(email) -> str:
    """The confirmation link as the person reads it in the plain-text email."""
    match = _CONFIRM_URL.search(email.text)
    assert match, f"no confirmation link in the email:\n{email.text}"
    return match.group(0)


def signature_count(page):
    """The live count in the campaign's tally (a role="status" element)."""
    return page.get_by_role("region", name="Signatures").get_by_role("status")


def signers_list(page):
    return page.get_by_role("region", name="Recent signers").get_by_role("listitem")


def businesses_section(page):
    return page.get_by_role("region", name="Participating businesses")


# --- Organisers and their updates ------------------------------------------

_UNSUBSCRIBE_URL = re.compile(r"https?://\S+/unsubscribe/[\w.-]+")


def log_in_as_organiser(page, email: str, password: str) -> None:
    """Open the organisers' login page, fill it in and land on 'Your campaigns'."""
    page.goto("/organiser/login")
    field(page, "Email").fill(email)
    field(page, "Password").fill(password)
    press(page, "Log in")
    expect(page.get_by_role("heading", name="Your campaigns")).to_be_visible()


def figure(page, name: str):
    """One of the numbers an organiser reads (a ``data-figure`` element)."""
    return page.locator(f'[data-figure="{name}"]')


def write_an_update(page, subject: str, body: str) -> None:
    field(page, "Subject").fill(subject)
    field(page, "Body").fill(body)


def send_the_update(page, recipients: int) -> None:
    """Press "Send to N supporters", then confirm on the next step."""
    noun = "supporter" if recipients == 1 else "supporters"
    press(page, f"Send to {recipients} {noun}")
    expect(page.get_by_role("heading", name="Send the update?")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"\bsend\b", re.IGNORECASE)).click()
    expect(page.get_by_text("Your update is on its way.")).to_be_visible()


def emails_with_subject(smtp, address: str, subject: str) -> list:
    return [m for m in smtp.to(address) if m.subject == subject]


def unsubscribe_link(email) -> str:
    """The unsubscribe link as the person reads it in the plain-text email."""
    match = _UNSUBSCRIBE_URL.search(email.text)
    assert match, f"no unsubscribe link in the email:\n{email.text}"
    return match.group(0)


def listed_businesses(page):
    """The names on the public list of businesses: each entry's heading."""
    return businesses_section(page).get_by_role("listitem").get_by_role("heading")
