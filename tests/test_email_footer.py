"""Every email says where the privacy notice is and where to see, download
or erase what the site holds about you ("Manage my data"), as absolute links
in both its parts; every public form that takes personal details links the
privacy notice beside its button. The notice is the site's own page, or the
address an admin set in the site settings."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from campaign import (
    broadcasts,
    confirm_reminders,
    freeze_mail,
    organisers,
    outbox,
    privacy_mail,
    signing,
    site_settings,
    tokens,
    update_mail,
)
from campaign.extensions import db
from campaign.models import Kind, OutboxMessage, OutboxStatus, Signature

from .builders import confirmed_signatures, csrf_token, hours_from_now, make_campaign, make_organiser

SITE = "http://campaigns.test"
PRIVACY, MY_DATA = f"{SITE}/privacy", f"{SITE}/my-data"
ELSEWHERE = "https://fairfeeds.example/privacy?from=email&lang=en"
EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
# Kinds the tests register for themselves (tests/greeting_mail), not the site's.
TEST_KINDS = {"greeting"}


# --- Each kind of email, sent the way the site sends it ------------------------------------------

def pledge(email: str, **choices) -> signing.Pledge:
    return signing.Pledge("Ada", "Lovelace", email, "GB", None, choices.pop("email_opt_in", False), False, **choices)


def signature_id(email: str) -> int:
    return db.session.execute(select(Signature.id).where(Signature.email == email)).scalar_one()


def send_confirmation(app, client, monkeypatch):
    with app.app_context():
        signing.sign(make_campaign(), pledge("new@example.com"))


def send_already_signed(app, client, monkeypatch):
    with app.app_context():
        campaign = make_campaign()
        confirmed_signatures(campaign, [("again@example.com", "GB")])
        signing.sign(campaign, pledge("again@example.com"))


def send_confirm_reminder(app, client, monkeypatch):
    """A day after signing, unconfirmed (as tests/test_confirm_reminder moves the clock)."""
    with app.app_context():
        signing.sign(make_campaign(), pledge("forgot@example.com"))
    monkeypatch.setattr(confirm_reminders, "SCAN_EVERY_SECONDS", 0)
    later = hours_from_now(25)
    monkeypatch.setattr(confirm_reminders, "clock", lambda: later)


def send_update(app, client, monkeypatch):
    with app.app_context():
        campaign = make_campaign()
        confirmed_signatures(campaign, [("fan@example.com", "GB", True)])
        broadcasts.schedule(broadcasts.create_update(campaign, None, "News", "We **did it**."))


def send_milestone(app, client, monkeypatch):
    with app.app_context():
        campaign = make_campaign(goal=2, milestone_emails=True)
        confirmed_signatures(campaign, [("fan1@example.com", "GB", True), ("fan2@example.com", "GB", True)])


def send_update_test(app, client, monkeypatch):
    with app.app_context():
        update_mail.enqueue_test(broadcasts.create_update(make_campaign(), None, "News", "Soon."), "org@example.com")
        db.session.commit()


def send_business_confirmation(app, client, monkeypatch):
    """The business form on a boycott's page, filled in."""
    with app.app_context():
        make_campaign(slug="ads-off", kind=Kind.BOYCOTT)
    token = csrf_token(client.get("/c/ads-off").get_data(as_text=True))
    answer = client.post("/c/ads-off/business", data={
        "business-organisation": "Acme Bakery Ltd", "business-website": "https://acme-bakery.example",
        "business-contact_email": "owner@acme-bakery.example", "business-company_size": "10-49",
        "business-csrf_token": token})
    assert answer.status_code == 303


def send_password_reset(app, client, monkeypatch):
    with app.app_context():
        make_organiser("org@example.com")
        organisers.request_password_reset("org@example.com")


def send_invitation(app, client, monkeypatch):
    with app.app_context():
        organisers.invite("newcomer@example.com", make_organiser("admin@example.com", is_admin=True), as_admin=True)


def send_my_data_link(app, client, monkeypatch):
    """Someone asks "Manage my data" for a link to an address that signed."""
    with app.app_context():
        signing.sign(make_campaign(), pledge("mine@example.com"))
        privacy_mail.queue_link_request("mine@example.com")
        db.session.commit()


def send_my_data_erased(app, client, monkeypatch):
    with app.app_context():
        privacy_mail.queue_erased_note("gone@example.com", 1, 0, dt.datetime(2030, 1, 1))
        db.session.commit()


def freeze_signer(monkeypatch, moment: dt.datetime, **campaign_fields):
    """A signer who asked for reminders of a freeze from noon on 1 June 2099
    to noon the next day, and the freeze emails' clock set to ``moment`` (as
    tests/test_freeze_mail does)."""
    campaign = make_campaign(kind=Kind.FREEZE, statement="Going quiet.", time_zone="Europe/London",
                             window_start=dt.datetime(2099, 6, 1, 12), window_end=dt.datetime(2099, 6, 2, 12),
                             **campaign_fields)
    signing.sign(campaign, pledge("quiet@example.com", time_zone="Europe/London", reminder_opt_in=True))
    signature = signature_id("quiet@example.com")
    db.session.commit()
    signing.confirm(signature, signing.Choices("Ada", "Lovelace", "GB", False, False, reminder_opt_in=True))
    monkeypatch.setattr(freeze_mail, "clock", lambda: moment)


def send_freeze_day_before(app, client, monkeypatch):
    with app.app_context():
        freeze_signer(monkeypatch, dt.datetime(2099, 5, 31, 12))


def send_freeze_start(app, client, monkeypatch):
    with app.app_context():
        freeze_signer(monkeypatch, dt.datetime(2099, 6, 1, 12))


def send_freeze_check_in(app, client, monkeypatch):
    with app.app_context():
        freeze_signer(monkeypatch, dt.datetime(2099, 6, 2, 12), check_in_email=True)


SUPPORTER_EMAILS = {
    "confirmation": send_confirmation,
    "already_signed": send_already_signed,
    "confirm_reminder": send_confirm_reminder,
    "update": send_update,
    "milestone": send_milestone,
    "update_test": send_update_test,
    "business_confirmation": send_business_confirmation,
    "freeze_day_before": send_freeze_day_before,
    "freeze_start": send_freeze_start,
    "freeze_check_in": send_freeze_check_in,
    "my_data_link": send_my_data_link,
    "my_data_erased": send_my_data_erased,
}
# An organiser's account is not a supporter's data: the privacy notice only.
ACCOUNT_EMAILS = {
    "password_reset": send_password_reset,
    "invitation": send_invitation,
}


def sent_of_kind(app, smtp, kind: str) -> list:
    """The emails of ``kind`` the test mail server received (by Message-ID)."""
    with app.app_context():
        ids = set(db.session.execute(select(OutboxMessage.message_id).where(
            OutboxMessage.kind == kind, OutboxMessage.status == OutboxStatus.SENT)).scalars())
    return [m for m in smtp.received if m.message["Message-ID"] in ids]


def test_every_kind_of_email_the_site_sends_is_checked_here(app):
    """A new kind of email gets its case in the tables above."""
    kinds = {name for name in outbox.kind_names() if outbox._kinds[name].transport == "smtp"} - TEST_KINDS
    checked = set(SUPPORTER_EMAILS) | set(ACCOUNT_EMAILS)
    assert kinds == checked, f"add how each of {sorted(kinds - checked)} is sent to the tables above"


@pytest.mark.parametrize("kind", sorted(SUPPORTER_EMAILS))
def test_every_email_to_supporters_links_the_privacy_notice_and_their_data(app, client, smtp, deliver,
                                                                             monkeypatch, kind):
    SUPPORTER_EMAILS[kind](app, client, monkeypatch)
    deliver()
    emails = sent_of_kind(app, smtp, kind)
    assert emails, f"no {kind} email was sent"
    for email in emails:
        assert f"How we use your details: {PRIVACY}" in email.text
        assert f"See, download or erase what we hold about you: {MY_DATA}" in email.text
        assert f'<a href="{PRIVACY}">Privacy notice</a>' in email.html
        assert f'<a href="{MY_DATA}">Manage my data</a>' in email.html


@pytest.mark.parametrize("kind", sorted(ACCOUNT_EMAILS))
def test_an_organisers_account_email_links_the_privacy_notice(app, client, smtp, deliver, monkeypatch, kind):
    ACCOUNT_EMAILS[kind](app, client, monkeypatch)
    deliver()
    [email] = sent_of_kind(app, smtp, kind)
    assert f"How we use your details: {PRIVACY}" in email.text
    assert f'<a href="{PRIVACY}">Privacy notice</a>' in email.html
    assert MY_DATA not in email.text and MY_DATA not in email.html


@pytest.mark.parametrize("kind", ["confirmation", "update", "invitation"])
def test_a_privacy_notice_elsewhere_is_the_one_emails_link(app, client, smtp, deliver, monkeypatch, kind):
    with app.app_context():
        site_settings.change("privacy_url", ELSEWHERE)
        db.session.commit()
    {**SUPPORTER_EMAILS, **ACCOUNT_EMAILS}[kind](app, client, monkeypatch)
    deliver()
    [email, *_] = sent_of_kind(app, smtp, kind)
    assert f"How we use your details: {ELSEWHERE}" in email.text
    assert '<a href="https://fairfeeds.example/privacy?from=email&amp;lang=en">Privacy notice</a>' in email.html
    assert PRIVACY not in email.text and PRIVACY not in email.html


def email_templates() -> list[Path]:
    """Every email body template: not the subjects, not the partials."""
    return sorted(path for pattern in ("*.txt", "*.html") for path in EMAIL_TEMPLATES.glob(pattern)
                  if not path.name.startswith("_") and not path.name.endswith(".subject.txt"))


def test_the_email_templates_are_all_found():
    names = {path.name for path in email_templates()}
    assert {"confirm_signature.txt", "confirm_signature.html", "update.txt", "update.html"} <= names


@pytest.mark.parametrize("template", email_templates(), ids=lambda path: path.name)
def test_every_email_template_includes_the_footer(template):
    """A new email template includes templates/email/_footer of its own type."""
    footer = "email/_footer" + template.suffix
    include = re.compile(r"\{%-?\s*include\s+[\"']" + re.escape(footer) + r"[\"']\s*-?%\}")
    assert include.search(template.read_text()), f"{template.name} does not include {footer}"


# --- Public forms --------------------------------------------------------------------------------

class _Forms(HTMLParser):
    """Each form of a page: whether it asks for anything (a field a person
    fills in), and the links inside it with their targets."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._inside = True
            self.forms.append({"action": attrs.get("action"), "fields": set(), "links": []})
        elif self._inside and tag in ("input", "select", "textarea") \
                and attrs.get("type") not in ("hidden", "submit", "button") and attrs.get("name") != "homepage":
            self.forms[-1]["fields"].add(attrs.get("name"))
        elif self._inside and tag == "a":
            self.forms[-1]["links"].append((attrs.get("href"), attrs.get("target")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def forms_asking_for_details(html: str) -> list[dict]:
    reader = _Forms()
    reader.feed(html)
    # Field names without a form's prefix ("business-contact_email").
    return [form for form in reader.forms
            if {name.rpartition("-")[2] for name in form["fields"]} & {"email", "given_name", "contact_email"}]


@pytest.fixture
def form_pages(app, client):
    """The public pages with forms that take personal details, and how many
    each has: a pledge's page and embed page, a boycott's page (the sign
    form and the business form) and the page that confirms a signature."""
    with app.app_context():
        make_campaign(slug="pledge")
        make_campaign(slug="boycott", kind=Kind.BOYCOTT)
        signing.sign(make_campaign(slug="confirming"), pledge("ada@example.com"))
        confirm_url = tokens.links_for(tokens.CONFIRM)(signature_id("ada@example.com"))
    return {"/c/pledge": 1, "/c/boycott": 2, "/c/pledge/embed": 1, confirm_url.removeprefix(SITE): 1}


def test_every_public_form_that_takes_details_links_the_privacy_notice(client, form_pages):
    for path, count in form_pages.items():
        forms = forms_asking_for_details(client.get(path).get_data(as_text=True))
        assert len(forms) == count, path
        for form in forms:
            expected_target = "_blank" if path.endswith("/embed") else None
            assert ("/privacy", expected_target) in form["links"], (path, form["action"])


def test_the_forms_link_a_privacy_notice_elsewhere(app, client, form_pages):
    with app.app_context():
        site_settings.change("privacy_url", ELSEWHERE)
        db.session.commit()
    for path in form_pages:
        for form in forms_asking_for_details(client.get(path).get_data(as_text=True)):
            assert [href for href, _ in form["links"]] == [ELSEWHERE], (path, form["action"])
