"""Campaign pages are built once per edition and filled on each request:
whatever an organiser changes shows at once, and so does every new count,
signer, window state and hour's form token, while nothing else is rendered
again."""
import datetime as dt
import time

import pytest

from campaign import businesses, campaigns, questions, shared_pages
from campaign.extensions import db
from campaign.models import BusinessStatus, Campaign, CampaignStatus, Kind

from .builders import (
    confirm_signature,
    confirmed_signatures,
    csrf_token,
    form_values,
    log_in,
    make_campaign,
    make_organiser,
)
from .test_forms import page


def _labels(client, slug: str) -> list[str]:
    return [" ".join(e["text"].split()) for e in page(client.get(f"/c/{slug}")).elements if e["tag"] == "label"]


def _count(client, slug: str) -> str:
    doc = page(client.get(f"/c/{slug}"))
    return next(e["text"] for e in doc.elements if "data-count" in e["attrs"])


def _signers(client, slug: str) -> list[str]:
    doc = page(client.get(f"/c/{slug}"))
    return [" ".join(e["text"].split()) for e in doc.elements if e["tag"] == "li" and "signer-list" in e["inside"]]


def _signed_and_shown(campaign, given_name: str, email: str, country: str = "GB") -> None:
    from campaign import signing
    from campaign.models import Signature
    signing.sign(campaign, signing.Pledge(given_name, "Person", email, country, None, False, True))
    confirm_signature(db.session.execute(db.select(Signature).where(Signature.email == email)).scalar_one())


def _edition(campaign: Campaign) -> int:
    return db.session.scalar(db.select(Campaign.edition).where(Campaign.id == campaign.id))


def _text(client, slug: str) -> str:
    response = client.get(f"/c/{slug}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_edit_shows_at_once(ctx, client):
    campaign = make_campaign(title="Before the edit", story="Old **story**.")
    assert "Before the edit" in _text(client, campaign.slug)
    before = _edition(campaign)
    campaigns.update_campaign(campaign, {"title": "After the edit", "story": "New *story*."})
    assert _edition(campaign) == before + 1
    text = _text(client, campaign.slug)
    assert "After the edit" in text and "<em>story</em>" in text
    assert "Before the edit" not in text and "Old" not in text


def test_a_question_added_hidden_or_changed_shows_at_once(ctx, client):
    campaign = make_campaign()
    assert "Your union (optional)" not in _labels(client, campaign.slug)
    question = questions.add_question(campaign, "Your union", "text")
    assert "Your union (optional)" in _labels(client, campaign.slug)
    questions.edit_question(question, "Your trade union", "text", required=True)
    labels = _labels(client, campaign.slug)
    assert "Your trade union" in labels and "Your union (optional)" not in labels
    questions.set_hidden(question, True)
    assert "Your trade union" not in _text(client, campaign.slug)


def test_a_business_shows_once_approved_and_a_new_pledge_changes_nothing(ctx, client):
    campaign = make_campaign(kind=Kind.BOYCOTT)
    _text(client, campaign.slug)
    before = _edition(campaign)
    businesses.join_as_business(campaign, businesses.BusinessPledge("Acme Widgets", "https://acme.example",
                                                                    "ads@acme.example", "1-9"))
    assert _edition(campaign) == before, "a pledge waiting for a decision is not on the page"
    assert "Acme Widgets" not in _text(client, campaign.slug)
    businesses.confirm_pledge(campaign.businesses[0].id)
    assert _edition(campaign) == before, "nor is one its contact address confirmed"
    businesses.decide_business(campaign, "Acme Widgets", BusinessStatus.APPROVED)
    assert "Acme Widgets" in _text(client, campaign.slug)
    businesses.decide_business(campaign, "Acme Widgets", BusinessStatus.REJECTED)
    assert "Acme Widgets" not in _text(client, campaign.slug)


def test_a_listed_business_s_extension_and_resumption_show_at_once(ctx, client):
    """Its timeline is on the page: each new entry makes a new edition."""
    from campaign import business_pauses
    today = dt.date.today()
    campaign = make_campaign(kind=Kind.BOYCOTT)
    businesses.join_as_business(campaign, businesses.BusinessPledge(
        "Acme Widgets", "https://acme.example", "ads@acme.example", "1-9", today, today + dt.timedelta(days=9)))
    business = campaign.businesses[0]
    businesses.confirm_pledge(business.id)
    businesses.decide(business, BusinessStatus.APPROVED)
    assert "Pausing" in _text(client, campaign.slug)
    business_pauses.extend(business, today + dt.timedelta(days=30))
    text = _text(client, campaign.slug)
    assert "Extended" in text and "extended the pause" in text
    business_pauses.mark_resumed(business, None, today, "Back in the ad library.", "https://ads.example/acme")
    text = _text(client, campaign.slug)
    assert "Resumed" in text and "Back in the ad library." in text


def test_a_demand_s_new_status_shows_at_once(ctx, client):
    from campaign import scorecard
    campaign = make_campaign(demands="Label manipulated media")
    assert "No response yet" in _text(client, campaign.slug)
    before = _edition(campaign)
    scorecard.record_status(campaign, scorecard.demand_key("Label manipulated media"), "rejected",
                            dt.date.today(), "They said no.", "https://news.example/no", None)
    assert _edition(campaign) > before
    text = _text(client, campaign.slug)
    assert "Rejected" in text and "They said no." in text and "No response yet" not in text


def test_closing_shows_the_closed_page_with_its_count(ctx, client):
    campaign = make_campaign()
    confirmed_signatures(campaign, [("one@example.com", "GB"), ("two@example.com", "FR")])
    assert page(client.get(f"/c/{campaign.slug}")).by_id("sign-title") is not None
    campaigns.set_status(campaign, CampaignStatus.CLOSED)
    text = _text(client, campaign.slug)
    assert "This campaign is closed" in text and "It closed with 2 signatures." in text
    assert 'id="sign-title"' not in text
    campaigns.set_status(campaign, CampaignStatus.DRAFT)
    assert client.get(f"/c/{campaign.slug}").status_code == 404
    assert client.get(f"/c/{campaign.slug}/count.json").status_code == 404
    assert client.get(f"/c/{campaign.slug}/thanks").status_code == 404


def test_the_count_and_signers_are_fresh_on_every_request(ctx, client):
    campaign = make_campaign(goal=100)
    assert _count(client, campaign.slug) == "0"
    assert "Be the first to sign." in _text(client, campaign.slug)
    _signed_and_shown(campaign, "Grace", "grace@example.com", "US")
    assert _count(client, campaign.slug) == "1"
    assert _signers(client, campaign.slug) == ["Grace United States"]
    text = _text(client, campaign.slug)
    assert "Be the first to sign." not in text and 'value="1" max="100"' in text
    _signed_and_shown(campaign, "Ada", "ada@example.com")
    assert _count(client, campaign.slug) == "2"
    assert _signers(client, campaign.slug) == ["Ada United Kingdom", "Grace United States"]


def test_the_window_moves_on_without_an_edit(ctx, client):
    """The page of an upcoming freeze turns into the page of a freeze
    happening now when its start time passes, and then shows its result."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    campaign = make_campaign(kind=Kind.FREEZE, window_start=now + dt.timedelta(seconds=1),
                             window_end=now + dt.timedelta(seconds=2))
    confirmed_signatures(campaign, [("one@example.com", "GB")])
    assert "The freeze starts soon" in _text(client, campaign.slug)
    time.sleep(max(0.0, (campaign.window_start - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds())
               + 0.1)
    assert "The freeze is happening now" in _text(client, campaign.slug)
    time.sleep(1.1)
    text = _text(client, campaign.slug)
    assert "The freeze has ended" in text and "1 person signed up to take part." in text


def test_the_form_token_is_this_hours(ctx, client, monkeypatch):
    campaign = make_campaign()
    this_hour = csrf_token(_text(client, campaign.slug))
    hour = shared_pages._hour()
    monkeypatch.setattr(shared_pages, "_hour", lambda: hour + 1)
    next_hour = csrf_token(_text(client, campaign.slug))
    assert next_hour != this_hour and shared_pages.page_token_is_valid(next_hour, campaign.slug)


@pytest.mark.parametrize("name", ["{{ count }}", "zq{count}qz", "Count", "<b>Bold</b>"])
def test_what_signers_type_is_shown_as_they_typed_it(ctx, client, name):
    """A name that looks like a template or a slot is a name: the page's
    own count stays where it is and the name shows as typed."""
    campaign = make_campaign()
    _signed_and_shown(campaign, name, "odd@example.com")
    assert _signers(client, campaign.slug) == [f"{name} United Kingdom"]
    assert _count(client, campaign.slug) == "1"
    assert "<b>Bold" not in _text(client, campaign.slug)


def test_an_organisers_preview_of_a_draft_is_rendered_whole(ctx, client):
    campaign = make_campaign(status=CampaignStatus.DRAFT, title="Not yet public")
    make_organiser("org@example.com", campaigns=[campaign])
    log_in(client, "org@example.com")
    preview = client.get(f"/organiser/c/{campaign.slug}/preview")
    assert preview.status_code == 200 and "Not yet public" in preview.get_data(as_text=True)
    assert "Preview" in preview.get_data(as_text=True)
    assert ctx.test_client().get(f"/c/{campaign.slug}").status_code == 404


@pytest.mark.parametrize("chosen", [None, "", "GB", "ZW", "XX", '"><b>x</b>', "gb"])
def test_the_country_select_is_the_same_html_as_wtforms_renders(app, chosen):
    """Its options are rendered once, the chosen one marked each time: the
    HTML is exactly what WTForms' own select makes, errors included."""
    from wtforms.widgets import Select

    from campaign.public_forms import SignForm
    with app.test_request_context("/"):
        form = SignForm(formdata=None, **({} if chosen is None else {"country": chosen}))
        ours = str(form.country(**{"aria-invalid": "true"}))
        theirs = str(Select()(form.country, autocomplete="country", **{"aria-invalid": "true"}))
    assert ours == theirs
    assert ours.count("selected") == (1 if chosen in ("", "GB", "ZW") else 0)


def test_the_confirm_page_shows_each_signer_their_own_details_and_follows_edits(ctx, client):
    from campaign import signing, tokens
    from campaign.models import Signature
    campaign = make_campaign(pledge_text="I will log off on Friday.")
    for name, email in (("Sam", "one@example.com"), ("Kim", "two@example.com")):
        signing.sign(campaign, signing.Pledge(name, "Signer", email, "GB", None, False, False))
    ids = db.session.execute(db.select(Signature.id).order_by(Signature.id)).scalars().all()
    first, second = (client.get(f"/confirm/{tokens.token_for(tokens.CONFIRM, i)}") for i in ids)
    assert first.status_code == second.status_code == 200
    assert form_values(first.get_data(as_text=True))["given_name"] == "Sam"
    assert form_values(second.get_data(as_text=True))["given_name"] == "Kim"
    assert "I will log off on Friday." in first.get_data(as_text=True)
    campaigns.update_campaign(campaign, {"pledge_text": "I will log off on Saturday."})
    again = client.get(f"/confirm/{tokens.token_for(tokens.CONFIRM, ids[0])}").get_data(as_text=True)
    assert "I will log off on Saturday." in again and "Friday" not in again
    # The button still confirms.
    response = client.post(f"/confirm/{tokens.token_for(tokens.CONFIRM, ids[0])}",
                           data=form_values(again), headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200 and "Your signature is confirmed" in response.get_data(as_text=True)
