"""The person who confirms decides: signing again while pending replaces what
the last signing recorded, the confirmation page shows what will be stored
and takes changes, an invalidated address may sign again, and a link
expires and does not work for a campaign that is not open."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from campaign import moderation
from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, Signature, SignatureStatus

from .builders import confirm, confirm_link, form_values, make_campaign, sign


def signatures(app) -> list[Signature]:
    with app.app_context():
        rows = db.session.execute(select(Signature).order_by(Signature.id)).scalars().all()
        db.session.expunge_all()
        return rows


def test_the_latest_signer_is_greeted_and_the_confirmer_s_choices_are_stored(app, client, smtp, deliver):
    """Mallory signs Jane's address first; Jane signs as herself; what Jane
    confirms is what counts, and Mallory's name is never shown."""
    with app.app_context():
        make_campaign(slug="jane")
    sign(client, "jane", given_name="Mallory", family_name="Evil", email="jane+x@example.org", country="RU",
         email_opt_in="y", show_name="y")
    sign(client, "jane", given_name="Jane", family_name="Doe", email="jane@example.org", country="GB")
    deliver()
    greetings = [m.text.splitlines()[0] for m in smtp.received]
    # The first email went out before Jane signed: rendered at send time, it greets her too.
    assert greetings == ["Hello Jane,", "Hello Jane,"]
    page = client.get(confirm_link(smtp.received[-1].text))
    shown = form_values(page.get_data(as_text=True))
    assert (shown["given_name"], shown["family_name"], shown["country"]) == ("Jane", "Doe", "GB")
    assert "email_opt_in" not in shown and "show_name" not in shown, "Jane left both boxes unticked"

    assert confirm(client, confirm_link(smtp.received[-1].text)).status_code == 200
    [stored] = signatures(app)
    assert (stored.given_name, stored.family_name, stored.country, stored.email_opt_in, stored.show_name,
            stored.status) == ("Jane", "Doe", "GB", False, False, SignatureStatus.CONFIRMED)
    assert stored.email == "jane@example.org", "the latest address typed is the one we write to"
    assert "Mallory" not in client.get("/c/jane").get_data(as_text=True)


def test_a_change_made_on_the_confirmation_page_is_what_gets_stored(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="change")
    sign(client, "change", given_name="Jo", family_name="Bloggs", email="jo@example.org", country="GB")
    deliver()
    path = confirm_link(smtp.received[0].text)
    done = confirm(client, path, given_name="Joanna", country="IE", email_opt_in=True, show_name=True)
    assert done.status_code == 200 and "Your signature is confirmed" in done.get_data(as_text=True)
    [stored] = signatures(app)
    assert (stored.given_name, stored.country, stored.email_opt_in, stored.show_name) == ("Joanna", "IE", True, True)
    assert "Joanna" in client.get("/c/change").get_data(as_text=True)
    with app.app_context():
        from campaign import counts
        assert counts.status_counts(stored.campaign_id) == {("confirmed", True): 1, ("pending", False): 0}


CONFIRM_PAGE_BAD_INPUT = [
    ({"given_name": ""}, "Enter your first name"),
    ({"family_name": ""}, "Enter your last name"),
    ({"given_name": "x" * 101}, "First name must be 100 characters or fewer"),
    ({"given_name": "see evil.example"}, "First name must not contain a web address"),
    ({"family_name": "=HYPERLINK(1)"}, "Last name must not start with =, +, - or @"),
    ({"country": ""}, "Choose your country from the list"),
    ({"country": "XX"}, "Choose your country from the list"),
    ({"given_name": "Bad\u0000name"}, "First name contains characters we cannot accept"),
]


@pytest.mark.parametrize(("changes", "message"), CONFIRM_PAGE_BAD_INPUT)
def test_bad_input_on_the_confirmation_page_gets_a_clear_error_and_confirms_nothing(
        app, client, smtp, deliver, changes, message):
    with app.app_context():
        make_campaign(slug="bad")
    sign(client, "bad", given_name="Kai", email="kai@example.org")
    deliver()
    answer = confirm(client, confirm_link(smtp.received[0].text), **changes)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert message in text and "<title>Error:" in text
    kept = form_values(text)
    for name, value in changes.items():
        if "\u0000" not in value and name != "country":  # a select keeps only what it offers
            assert kept[name] == value, "what was typed is kept for correcting"
    assert signatures(app)[0].status == SignatureStatus.PENDING


def test_an_invalidated_address_can_sign_again_and_its_new_signature_counts(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="again")
        campaign_id = campaign.id
    sign(client, "again", email="owner@example.org", given_name="Squatter")
    with app.app_context():
        batch = moderation.invalidate(db.session.get(Campaign, campaign_id),
                                      moderation.Criteria(email_domain="example.org"), None, "pre-registered")
        batch_id = batch.id
    deliver()
    smtp.reset()

    assert sign(client, "again", email="owner@example.org", given_name="Owner").status_code == 200
    deliver()
    [email] = smtp.to("owner@example.org")
    assert email.text.startswith("Hello Owner,")
    assert confirm(client, confirm_link(email.text)).status_code == 200
    old, new = signatures(app)
    assert (old.status, old.given_name) == (SignatureStatus.INVALIDATED, "Squatter"), "kept on record"
    assert (new.status, new.given_name) == (SignatureStatus.CONFIRMED, "Owner")
    assert client.get("/c/again/count.json").get_json()["signatures"] == 1

    # Undoing the invalidation leaves the old one out: the new one counts instead.
    with app.app_context():
        from campaign.models import Invalidation
        assert moderation.undo_invalidation(db.session.get(Invalidation, batch_id)) == 0
    assert [s.status for s in signatures(app)] == [SignatureStatus.INVALIDATED, SignatureStatus.CONFIRMED]
    assert client.get("/c/again/count.json").get_json()["signatures"] == 1


# --- Links that expire, campaigns that are not open ---------------------------------------

def test_a_confirmation_link_expires_after_thirty_days_with_a_page_that_offers_to_sign_again(
        app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="old-link")
    sign(client, "old-link", email="late@example.org")
    deliver()
    path = confirm_link(smtp.received[0].text)
    form = form_values(client.get(path).get_data(as_text=True))
    with app.app_context():
        signature = db.session.execute(select(Signature)).scalar_one()
        signature.last_emailed_at -= dt.timedelta(days=30, minutes=1)
        db.session.commit()
    shown = client.get(path)
    assert shown.status_code == 410
    text = shown.get_data(as_text=True)
    assert "This confirmation link has expired" in text and 'href="/c/old-link"' in text and "Sign again" in text
    assert client.post(path, data=form).status_code == 410
    assert signatures(app)[0].status == SignatureStatus.PENDING
    assert client.get("/c/old-link/count.json").get_json()["signatures"] == 0

    # Signing again sends a new link, which works.
    smtp.reset()
    sign(client, "old-link", email="late@example.org")
    deliver()
    assert confirm(client, confirm_link(smtp.received[0].text)).status_code == 200
    assert client.get("/c/old-link/count.json").get_json()["signatures"] == 1


def test_a_closed_campaign_counts_no_more_confirmations(app, client, smtp, deliver):
    with app.app_context():
        campaign_id = make_campaign(slug="closing", title="Closing soon").id
    sign(client, "closing", email="slow@example.org")
    deliver()
    path = confirm_link(smtp.received[0].text)
    form = form_values(client.get(path).get_data(as_text=True))
    with app.app_context():
        db.session.get(Campaign, campaign_id).status = CampaignStatus.CLOSED
        db.session.commit()
    answer = client.post(path, data=form)
    assert answer.status_code == 410 and "has closed" in answer.get_data(as_text=True)
    assert signatures(app)[0].status == SignatureStatus.PENDING
    with app.app_context():
        from campaign import counts
        assert counts.signature_count(campaign_id) == 0


def test_a_link_to_a_draft_shows_nothing_of_it(app, client, smtp, deliver):
    with app.app_context():
        campaign_id = make_campaign(slug="unpublished", title="Secret plans",
                                    pledge_text="The unannounced pledge").id
    sign(client, "unpublished", email="early@example.org")
    deliver()
    path = confirm_link(smtp.received[0].text)
    with app.app_context():
        db.session.get(Campaign, campaign_id).status = CampaignStatus.DRAFT
        db.session.commit()
    for answer in (client.get(path), client.post(path, data={"given_name": "A", "family_name": "B",
                                                             "country": "GB"})):
        text = answer.get_data(as_text=True)
        assert answer.status_code in (400, 410)
        assert "Secret plans" not in text and "unannounced" not in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)
                                 .where(Signature.status == SignatureStatus.CONFIRMED)) == 0
