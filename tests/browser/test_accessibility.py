"""axe (WCAG 2.2 AA) finds nothing wrong on any page a person can reach:
every public page (each kind of campaign in each state, the pages after
signing, confirming and unsubscribing, the error pages) and every organiser
page, the latter found by walking the app's own list of organiser routes,
so a page added later is checked without anyone remembering to."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from campaign import api_keys, broadcasts, businesses, demo, moderation, questions, signing, tokens, webhooks
from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, Kind, Signature

from ..builders import PASSWORD, confirmed_signatures, hours_from_now, make_campaign, make_organiser
from .steps import confirmation_email, confirmation_link, expect, field, fill_in_the_pledge, press

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the `browser` fixture skips (or fails) and says why
    Axe = None

# WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ADMIN = "admin@example.com"


class AxeChecks:
    """axe run on page after page; what it finds is kept, to be reported
    together, page by page, at the end."""

    def __init__(self, page):
        if Axe is None:
            pytest.fail("axe-playwright-python is not installed (pip install -r requirements-dev.txt)")
        self.page = page
        self.axe = Axe()
        self.checked: list[str] = []
        self.problems: list[str] = []
        self.landed: set[str] = set()

    def check(self, what: str) -> None:
        """Run axe on the page once it has loaded (a button's click only
        starts the next page); ``what`` names it in the report."""
        self.page.wait_for_load_state("load")
        results = self.axe.run(self.page, options={
            "runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]})
        where = f"{what} ({self.page.url})"
        self.checked.append(where)
        if results.violations_count:
            self.problems.append(f"== {where}\n{results.generate_report()}")

    def visit(self, path: str, what: str | None = None) -> None:
        self.page.goto(path)
        self.check(what or path)

    def visit_once(self, path: str, what: str | None = None) -> None:
        """Visit, and check unless the page landed where an earlier visit did
        (every page before logging in sends you to the same login page)."""
        self.page.goto(path)
        landed = self.page.url.split("?")[0]
        if landed not in self.landed:
            self.landed.add(landed)
            self.check(what or path)

    def assert_no_violations(self) -> None:
        """Fail with axe's own report of every violation, page by page."""
        assert self.checked, "no page was checked"
        if self.problems:
            pytest.fail(f"axe found violations on {len(self.problems)} of {len(self.checked)} pages:\n\n"
                        + "\n\n".join(self.problems), pytrace=False)


# --- The public pages ----------------------------------------------------------------

@pytest.mark.browser
def test_every_public_page_passes_axe(app, page, smtp, deliver):
    """Each kind of campaign in each state of its window, a form sent back
    with errors, the thank-you page, confirming (and its errors), the
    business pledge and its confirmation, unsubscribing, and error pages."""
    with app.app_context():
        demo.seed_demo_campaigns()
        happening = make_campaign(kind=Kind.FREEZE, title="Freeze happening", window_start=hours_from_now(-2),
                                  window_end=hours_from_now(22), time_zone="Europe/London").slug
        ended = make_campaign(kind=Kind.FREEZE, title="Freeze ended", window_start=hours_from_now(-48),
                              window_end=hours_from_now(-24), next_action="Write to your representative.").slug
        closed = make_campaign(title="A closed pledge", status=CampaignStatus.CLOSED).slug
        # Signed and confirmed below: the demo campaigns may ask more than a name and an address.
        plain = make_campaign(title="A plain pledge").slug
        # The language switcher, and a page written right to left.
        worded = make_campaign(title="A pledge in three languages", published_languages=["es", "ar"]).slug
        refused = make_campaign(title="Closes before you confirm")
        signing.sign(refused, signing.Pledge("Late", "Signer", "late@example.com", "GB", None, False, False))
        late_id = db.session.execute(select(Signature.id).where(Signature.campaign_id == refused.id)).scalar_one()
        refused.status = CampaignStatus.CLOSED
        db.session.commit()
        late_token = tokens.token_for(tokens.CONFIRM, late_id)
        demos = {c.kind: c.slug for c in db.session.execute(select(Campaign).where(
            Campaign.slug.in_(["stop-hate-for-profit", "walkaway", "account-freeze"]))).scalars()}
    axe = AxeChecks(page)

    axe.visit("/", "the list of campaigns")
    for kind, slug in demos.items():
        axe.visit(f"/c/{slug}", f"the demo {kind} campaign")
    axe.visit(f"/c/{happening}", "a freeze happening now")
    axe.visit(f"/c/{ended}", "a freeze that has ended")
    axe.visit(f"/c/{closed}", "a closed campaign")
    for kind, slug in demos.items():
        axe.visit(f"/c/{slug}/poster", f"the demo {kind} campaign's poster")
    axe.visit(f"/c/{demos[Kind.PLEDGE]}/thanks", "the shared thank-you page")
    axe.visit(f"/c/{demos[Kind.BOYCOTT]}/business/thanks", "the business thank-you page")
    axe.visit("/c/no-such-campaign", "the 404 page")
    axe.visit("/api/v1/docs", "the API documentation")
    axe.visit(f"/es/c/{worded}", "a campaign page in Spanish")
    axe.visit(f"/ar/c/{worded}", "a campaign page in Arabic, right to left")
    axe.visit("/ar/", "the list of campaigns in Arabic")
    axe.visit(f"/confirm/{late_token}", "a confirmation link for a closed campaign")

    axe.visit(f"/c/{plain}/embed", "the embed page")
    axe.visit(f"/c/{closed}/embed", "the embed page of a closed campaign")
    axe.visit(f"/c/{ended}/embed", "the embed page of a freeze that has ended")
    page.goto(f"/c/{plain}/embed")
    press(page, "Sign the pledge")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("the embed page's form sent back with errors")
    fill_in_the_pledge(page, email="embedded@example.com")
    press(page, "Sign the pledge")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    axe.check("the thank-you page in the embed frame")

    page.goto(f"/c/{demos[Kind.PLEDGE]}")
    press(page, "Sign the pledge")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("the sign form sent back with errors")

    page.goto(f"/c/{demos[Kind.BOYCOTT]}")
    press(page, "Join as a business")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("the business form sent back with errors")

    field(page, "Organisation").fill("Acme Bakery")
    field(page, "Website").fill("https://acme-bakery.example")
    field(page, "Contact email").fill("owner@acme-bakery.example")
    field(page, "Company size").select_option(index=1)
    press(page, "Join as a business")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    axe.check("the business thank-you page after pledging")
    deliver()
    [email] = [m for m in smtp.to("owner@acme-bakery.example") if m.subject.startswith("Confirm")]
    page.goto(re.search(r"https?://\S+/business/confirm/\S+", email.text).group(0))
    axe.check("the business confirmation page")
    press(page, "Confirm our pledge")
    expect(page.get_by_role("heading", name="Your pledge is confirmed")).to_be_visible()
    axe.check("the business pledge confirmed")

    page.goto(f"/c/{plain}")
    fill_in_the_pledge(page, email="grace@example.com")
    press(page, "Sign the pledge")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    axe.check("the thank-you page after signing")
    press(page, "Send the email again")
    expect(page.get_by_role("status")).to_be_visible()
    axe.check("the thank-you page after sending the email again")

    deliver()
    page.goto(confirmation_link(confirmation_email(smtp, "grace@example.com")))
    axe.check("the confirmation page")
    field(page, "First name").fill("")
    press(page, "Confirm my signature")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("the confirmation page sent back with errors")
    field(page, "First name").fill("Grace")
    press(page, "Confirm my signature")
    expect(page.get_by_role("heading", name="Your signature is confirmed")).to_be_visible()
    axe.check("the signature confirmed")
    page.get_by_role("link", name="Keep this page to see later how many signed through your link").click()
    axe.check("the signer's impact page")

    with app.app_context():
        signature_id = db.session.execute(select(Signature.id).where(
            Signature.email == "grace@example.com")).scalar_one()
        unsubscribe = tokens.token_for(tokens.UNSUBSCRIBE, signature_id)
    axe.visit(f"/unsubscribe/{unsubscribe}", "the unsubscribe page")
    press(page, "Unsubscribe from this campaign")
    axe.check("unsubscribed")

    _manage_my_data(app, page, axe, smtp, deliver, "grace@example.com")
    axe.assert_no_violations()


def _manage_my_data(app, page, axe: AxeChecks, smtp, deliver, address: str) -> None:
    """"Manage my data": asking (with an error, then rightly), the page
    behind the emailed link, erasing (unconfirmed, then done), and links
    that no longer work or never did."""
    app.config["MAILBOX_UNCONFIRMED_PER_HOUR"] = 10  # the signer's confirmations came within the hour
    axe.visit("/my-data", "the Manage my data form")
    press(page, "Email me a link")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("the Manage my data form sent back with errors")
    field(page, "Email").fill(address)
    press(page, "Email me a link")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    axe.check("after asking for a link to one's data")
    deliver()
    [email] = [m for m in smtp.to(address) if m.subject.startswith("Your link to the data")]
    link = re.search(r"https?://\S+/my-data/[\w.-]+", email.text).group(0)
    axe.visit(link, "a supporter's own data")
    press(page, "Erase everything")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("erasing one's data, sent back unconfirmed")
    field(page, "I understand that this erases everything above, for good").check()
    press(page, "Erase everything")
    expect(page.get_by_role("heading", name="Your data is erased")).to_be_visible()
    axe.check("one's data erased")
    axe.visit(link, "a link to one's data after erasing it (expired)")
    axe.visit("/my-data/not-a-link", "a link to one's data that never worked")


# --- The organiser pages ----------------------------------------------------------------

def _organiser_world(app) -> list[dict]:
    """An admin, another organiser, and a campaign of each kind with
    signatures, an invalidation, an update, a question and a webhook
    endpoint (the boycott with a business), and an API key of the admin's:
    the arguments each campaign's organiser pages need."""
    with app.app_context():
        admin = make_organiser(ADMIN, is_admin=True)
        other = make_organiser("member@example.com")
        worlds = []
        for kind in (Kind.BOYCOTT, Kind.PLEDGE, Kind.FREEZE):
            window = {} if kind == Kind.PLEDGE else {"window_start": hours_from_now(24),
                                                    "window_end": hours_from_now(48)}
            campaign = make_campaign(kind=kind, title=f"The {kind} campaign", **window)
            confirmed_signatures(campaign, [(f"a-{kind}@example.com", "GB"), (f"b-{kind}@example.com", "FR"),
                                            (f"c-{kind}@example.com", "FR")])
            batch = moderation.invalidate(campaign, moderation.Criteria(email=f"c-{kind}@example.com"), admin,
                                          "a test")
            update = broadcasts.create_update(campaign, admin, "News", "Thank you for signing.")
            question = questions.add_question(campaign, "Are you a member?", "yesno")
            # A signature with the words it agreed to, for the Consents page.
            signing.sign(campaign, signing.Pledge("Sam", "Signer", f"d-{kind}@example.com", "GB", None, False, False,
                                                  consent_texts={"pledge": campaign.pledge_text,
                                                                 f"question:{question.id}": question.label,
                                                                 "email_opt_in": "Email me updates about this campaign"}))
            endpoint, _secret = webhooks.create_endpoint(campaign, "https://crm.example.org/hooks",
                                                         {"signature.confirmed"}, admin)
            key, _token = api_keys.create_key(admin, f"The {kind} CRM", [campaign], {"read_counts"})
            db.session.commit()
            arguments = {"slug": campaign.slug, "invalidation_id": batch.id, "organiser_id": other.id,
                         "update_id": update.id, "question_id": question.id, "token": "not-a-real-token",
                         "business_id": 0, "language": "es", "key_id": key.id, "endpoint_id": endpoint.id}
            if kind == Kind.BOYCOTT:
                businesses.join_as_business(campaign, businesses.BusinessPledge(
                    "Acme Ltd", "https://acme.example", "ads@acme.example", "10-49"))
                arguments["business_id"] = campaign.businesses[0].id
            worlds.append(arguments)
        return worlds


def organiser_pages(app, arguments: dict) -> list[str]:
    """The path of every organiser page a browser can GET, from the URL map."""
    adapter = app.url_map.bind("localhost")
    paths = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("organiser.") or "GET" not in rule.methods:
            continue
        unknown = set(rule.arguments) - set(arguments)
        assert not unknown, f"the crawl does not know how to fill {unknown} in {rule.rule}"
        paths.append(adapter.build(rule.endpoint, {k: arguments[k] for k in rule.arguments}))
    return sorted(set(paths))


def _is_html(page, path: str) -> bool:
    """Exports are downloads, not pages: ask first, with the page's cookies."""
    response = page.request.get(path, max_redirects=5)
    return response.headers.get("content-type", "").startswith("text/html")


@pytest.mark.browser
def test_every_organiser_page_passes_axe(app, page):
    """Before logging in (the login page, a failed login, a forgotten
    password, expired links) and after, as an admin, every organiser page of
    a campaign of each kind, some of them with a form sent back with errors."""
    worlds = _organiser_world(app)
    axe = AxeChecks(page)

    for path in organiser_pages(app, worlds[0]):
        if _is_html(page, path):
            axe.visit_once(path, f"{path}, not logged in")
    page.goto("/organiser/login")
    field(page, "Email").fill(ADMIN)
    field(page, "Password").fill("not the password")
    press(page, "Log in")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("a failed login")

    field(page, "Email").fill(ADMIN)
    field(page, "Password").fill(PASSWORD)
    press(page, "Log in")
    expect(page.get_by_role("heading", name="Your campaigns")).to_be_visible()
    seen = set()
    for arguments in worlds:
        for path in organiser_pages(app, arguments):
            if path not in seen and _is_html(page, path):
                seen.add(path)
                axe.visit(path)

    slug = worlds[0]["slug"]
    page.goto(f"/organiser/c/{slug}/edit")
    field(page, "Title").fill("")
    press(page, "Save")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("the campaign form sent back with errors")

    page.goto(f"/organiser/c/{slug}/languages/ar")
    axe.check("a translation into Arabic, beside the campaign's own words")
    field(page, "Title").fill("x" * 201)
    press(page, "Save the translation")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("a translation sent back with errors")
    press(page, "Publish")
    expect(page.get_by_role("alert")).to_be_visible()
    axe.check("publishing a translation with fields missing")

    page.goto(f"/organiser/c/{slug}/signatures?email_domain=example.com")
    axe.check("the signatures found by a search")
    press(page, "Invalidate these signatures")
    axe.check("the invalidation's preview")

    page.goto(f"/organiser/c/{slug}/")
    press(page, "Close")
    expect(page.get_by_role("heading", name=re.compile("^Close"))).to_be_visible()
    axe.check("closing a live campaign: the page that asks first")

    axe.assert_no_violations()
