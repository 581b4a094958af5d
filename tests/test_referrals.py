"""A signer's own share link: in the confirmation email, on the page after
confirming and on their "your impact" page (linked from later emails),
with how many confirmed signatures it brought and nothing about who; and
the organisers' Sources page, its figures checked against counts worked
out here from the rows."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from babel.dates import format_date
from sqlalchemy import select, update

from campaign import broadcasts, moderation, provenance, referrals, signing, tokens
from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, OutboxMessage, OutboxStatus, Signature, SignatureStatus

from .builders import (
    confirm,
    confirm_link,
    confirm_signature,
    confirmed_signatures,
    log_in,
    make_campaign,
    make_organiser,
    sign,
)

SITE = "http://campaigns.test"
SHARE_SENTENCE = "Once you have confirmed, share your own link: everyone who signs through it counts as yours."
IMPACT_LINK = re.compile(r"https?://[^/\s]+(/c/[\w-]+/impact/[\w.-]+)")


def signature_of(email: str) -> Signature:
    db.session.expire_all()
    return db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()


def share_url(slug: str, code: str) -> str:
    return f"{SITE}/c/{slug}?ref={code}"


def signed_and_confirmed(app, client, smtp, deliver, slug, email, **fields) -> str:
    """Sign from the page and confirm from the emailed link; the link's path."""
    smtp.reset()
    assert sign(client, slug, email=email, **fields).status_code == 200
    deliver()
    [message] = [m for m in smtp.to(email) if m.subject.startswith("Confirm your signature")]
    path = confirm_link(message.text)
    assert "Your signature is confirmed" in confirm(client, path).get_data(as_text=True)
    return path


# --- The confirmation email ----------------------------------------------------------

def test_the_confirmation_email_gives_the_signer_their_own_share_link(app, client, smtp, deliver):
    with app.app_context():
        make_campaign(slug="spread")
    sign(client, "spread", email="ada@example.com")
    deliver()
    [message] = smtp.to("ada@example.com")
    with app.app_context():
        code = signature_of("ada@example.com").referral_code
    link = share_url("spread", code)
    assert SHARE_SENTENCE in message.text and link in message.text
    assert f'<a href="{link}">{link}</a>' in message.html
    assert "ada@example.com" not in link


def test_the_note_to_someone_who_signed_already_carries_their_own_link(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="spread")
        [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
        code = signature.referral_code
    smtp.reset()
    sign(client, "spread", email="ada@example.com")
    deliver()
    [note] = smtp.to("ada@example.com")
    assert note.subject.startswith("You have already signed")
    assert share_url("spread", code) in note.text and share_url("spread", code) in note.html


# --- The page after confirming --------------------------------------------------------

def test_the_page_after_confirming_shows_the_link_and_what_it_brought(app, client, smtp, deliver):
    """Two confirmed through the link count; a pending one, an invalidated
    one and one through someone else's link do not; nobody is named."""
    with app.app_context():
        campaign_id = make_campaign(slug="spread", title="Spread the word").id
    path = signed_and_confirmed(app, client, smtp, deliver, "spread", "ada@example.com")
    first = client.get(path)
    html = first.get_data(as_text=True)
    with app.app_context():
        code = signature_of("ada@example.com").referral_code
        [other] = confirmed_signatures(db.session.get(Campaign, campaign_id), [("other@example.com", "FR")])
        other_code = other.referral_code
    assert first.headers["Cache-Control"] == "no-store"
    assert "Nobody has signed through your link yet." in html
    assert f'value="{share_url("spread", code)}"' in html, "the copy-link box holds the signer's own link"
    assert quote(share_url("spread", code), safe="") in html, "and so do the share buttons"

    for email, name in (("grace@example.com", "Grace"), ("mary@example.com", "Mary")):
        signed_and_confirmed(app, client, smtp, deliver, "spread", email, ref=code, given_name=name,
                             family_name="Secretname")
    sign(client, "spread", email="pending@example.com", ref=code)
    signed_and_confirmed(app, client, smtp, deliver, "spread", "fraud@example.com", ref=code)
    signed_and_confirmed(app, client, smtp, deliver, "spread", "elsewhere@example.com", ref=other_code)
    with app.app_context():
        moderation.invalidate(db.session.get(Campaign, campaign_id),
                              moderation.Criteria(email="fraud@example.com"), None, "fraud")

    html = client.get(path).get_data(as_text=True)
    assert "2 people signed through your link." in html
    for secret in ("Grace", "Mary", "Secretname", "grace@example.com", "mary@example.com"):
        assert secret not in html


def test_one_person_through_the_link_is_said_in_the_singular(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="spread")
        [sharer] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
        code, token = sharer.referral_code, tokens.token_for(tokens.CONFIRM, sharer.id)
    signed_and_confirmed(app, client, smtp, deliver, "spread", "grace@example.com", ref=code)
    html = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert "1 person signed through your link." in html


def test_a_withdrawn_signature_gets_no_share_link(app, client):
    with app.app_context():
        campaign = make_campaign(slug="spread")
        [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
        code, token = signature.referral_code, tokens.token_for(tokens.CONFIRM, signature.id)
        moderation.invalidate(campaign, moderation.Criteria(email="ada@example.com"), None, "fraud")
    html = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert "cannot be confirmed" in html
    assert code not in html and "Your own link" not in html


# --- The "your impact" page ----------------------------------------------------------

def test_a_later_email_links_to_the_impact_page_with_the_count(app, client, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="spread", title="Spread the word")
        [sharer] = confirmed_signatures(campaign, [("ada@example.com", "GB", True)])
        code = sharer.referral_code
        for email in ("grace@example.com", "mary@example.com", "ann@example.com"):
            signing.sign(campaign, signing.Pledge("Grace", "Secretname", email, "FR", None, False, False,
                                                  provenance=provenance.Provenance(referral=code)))
        for email in ("grace@example.com", "mary@example.com"):
            confirm_signature(signature_of(email))
        db.session.execute(update(OutboxMessage).values(status=OutboxStatus.SENT))
        db.session.commit()
        broadcasts.schedule(broadcasts.create_update(db.session.get(Campaign, campaign.id), None, "News", "We won."))
    deliver()
    [message] = [m for m in smtp.to("ada@example.com") if m.subject == "News"]
    assert "See how many people signed through your own link:" in message.text
    path = IMPACT_LINK.search(message.text).group(1)
    assert IMPACT_LINK.search(message.html).group(1) == path

    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in html
    assert "Your impact on Spread the word" in html
    assert "2 people signed through your link." in html
    assert f'value="{share_url("spread", code)}"' in html
    for secret in ("Grace", "Secretname", "grace@example.com", "mary@example.com", "ada@example.com"):
        assert secret not in html


def test_the_organisers_test_copy_shows_where_the_impact_link_goes(app, smtp, deliver):
    with app.app_context():
        campaign = make_campaign(slug="spread")
        broadcasts.send_test(broadcasts.create_update(campaign, None, "News", "We won."), "org@example.com")
    deliver()
    [message] = smtp.to("org@example.com")
    assert f"See how many people signed through your own link: {SITE}/c/spread/impact/test" in message.text


def test_the_impact_page_names_the_campaign_in_the_pages_language(app, client):
    """A Spanish signer's emails link to /es/.../impact/...: the campaign is
    named in Spanish there, where it is published in Spanish, and in its
    own language where it is not (French here)."""
    from campaign.models import CampaignTranslation
    with app.app_context():
        campaign = make_campaign(slug="spread", title="Spread the word", share_text="Sign with me")
        db.session.add(CampaignTranslation(campaign_id=campaign.id, language="es", title="Corre la voz",
                                           share_text="Firma conmigo"))
        campaign.published_languages = ["es"]
        db.session.commit()
        [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
        token = tokens.token_for(tokens.IMPACT, signature.id)
    spanish = client.get(f"/es/c/spread/impact/{token}").get_data(as_text=True)
    assert "<h1>Tu impacto en Corre la voz</h1>" in spanish and "Spread the word" not in spanish
    assert "Firma%20conmigo" in spanish or "Firma conmigo" in spanish
    assert "<h1>Your impact on Spread the word</h1>" in client.get(f"/c/spread/impact/{token}").get_data(as_text=True)
    french = client.get(f"/fr/c/spread/impact/{token}").get_data(as_text=True)
    assert "Spread the word" in french and "Corre la voz" not in french


@pytest.mark.parametrize("case", ["forged", "another-purpose", "another-campaign", "pending", "invalidated",
                                  "draft", "not-a-number"])
def test_an_impact_link_shows_only_a_confirmed_signers_own_page(app, client, case):
    """Anything but a genuine link of a confirmed signature of that public campaign is a 404."""
    with app.app_context():
        campaign = make_campaign(slug="spread")
        make_campaign(slug="elsewhere")
        [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
        signing.sign(campaign, signing.Pledge("Pat", "Pending", "pat@example.com", "GB", None, False, False))
        pending_id = signature_of("pat@example.com").id
        good = tokens.token_for(tokens.IMPACT, signature.id)
        slug = "spread"
        token = {
            "forged": good[:-3] + "AAA",
            "another-purpose": tokens.token_for(tokens.UNSUBSCRIBE, signature.id),
            "another-campaign": good,
            "pending": tokens.token_for(tokens.IMPACT, pending_id),
            "invalidated": good,
            "draft": good,
            "not-a-number": tokens._serializer(tokens.IMPACT).dumps("1"),
        }[case]
        if case == "another-campaign":
            slug = "elsewhere"
        if case == "invalidated":
            moderation.invalidate(campaign, moderation.Criteria(email="ada@example.com"), None, "fraud")
        if case == "draft":
            db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(status=CampaignStatus.DRAFT))
            db.session.commit()
    assert client.get(f"/c/spread/impact/{good}").status_code == (200 if case not in ("invalidated", "draft")
                                                                  else 404)
    assert client.get(f"/c/{slug}/impact/{token}").status_code == 404


# --- The organisers' Sources page ---------------------------------------------------------

class _Tables(HTMLParser):
    """Each table's rows (lists of cell texts), by its aria-labelledby."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("aria-labelledby"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "table":
            self._table = None


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def signed(campaign, email, source=None, medium=None, referral=None, given_name="Sam", country="GB",
           confirmed_on: dt.date | None = None, status="confirmed") -> Signature:
    signing.sign(campaign, signing.Pledge(given_name, "Familyname", email, country, None, False, False,
                                          provenance=provenance.Provenance(source, medium, None, referral)))
    signature = signature_of(email)
    if status != "pending":
        confirm_signature(signature)
    if confirmed_on is not None:
        db.session.execute(update(Signature).where(Signature.id == signature.id)
                           .values(confirmed_at=dt.datetime.combine(confirmed_on, dt.time(12))))
        db.session.commit()
    if status == "invalidated":
        moderation.invalidate(campaign, moderation.Criteria(email=email), None, "fraud")
    return signature_of(email)


D1, D2, D3 = dt.date(2031, 3, 1), dt.date(2031, 3, 2), dt.date(2031, 3, 5)


@pytest.fixture
def sourced(ctx):
    """Confirmed signatures from several sources and media over three days,
    some through two signers' links; pending and invalidated ones with
    sources too; and another campaign's signatures beside them."""
    campaign = make_campaign(slug="sourced")
    ada = signed(campaign, "ada@example.com", given_name="Ada", country="GB", confirmed_on=D1)
    eve = signed(campaign, "eve@example.com", "newsletter", "email", given_name="<b>Eve</b>", country="FR",
                 confirmed_on=D1)
    specs = [
        ("n1", "newsletter", "email", ada, D1), ("n2", "newsletter", "email", ada, D2),
        ("n3", "newsletter", "social", None, D2), ("p1", "poster", "print", ada, D3),
        ("p2", "poster", None, eve, D3), ("m1", "mastodon", "social", None, D3),
        ("x1", None, None, ada, D2), ("x2", None, "email", None, D3), ("w1", "weird.partner", None, None, D3),
        ("z1", "zine", None, None, D1),
    ]
    for name, source, medium, referrer, day in specs:
        signed(campaign, f"{name}@example.com", source, medium, referrer.referral_code if referrer else None,
               confirmed_on=day)
    signed(campaign, "pending@example.com", "poster", "print", ada.referral_code, status="pending")
    signed(campaign, "fraud@example.com", "mastodon", "social", eve.referral_code, status="invalidated")
    other = make_campaign(slug="other-campaign")
    signed(other, "o1@example.com", "newsletter", "email")
    signed(other, "o2@example.com", "elsewhere", "email")
    make_organiser(campaigns=[campaign])
    return campaign


def confirmed_rows(campaign_id: int):
    db.session.expire_all()
    return db.session.execute(select(Signature).where(Signature.campaign_id == campaign_id,
                                                      Signature.status == SignatureStatus.CONFIRMED)).scalars().all()


def ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def shown(name: str) -> str:
    return name or "(no source)"


def test_the_sources_page_counts_what_the_rows_say(sourced, client):
    log_in(client)
    response = client.get("/organiser/c/sourced/sources")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = tables(html)
    rows = confirmed_rows(sourced.id)

    by_source = ranked(Counter(row.source or "" for row in rows))
    assert found["by-source-title"][1:] == [[shown(name), str(n)] for name, n in by_source]
    by_medium = ranked(Counter(row.medium or "" for row in rows))
    assert found["by-medium-title"][1:] == [[shown(name), str(n)] for name, n in by_medium]

    by_referrer = Counter(row.referred_by_id for row in rows if row.referred_by_id)
    names = {row.id: (row.given_name, row.country) for row in rows}
    assert found["referrers-title"][1:] == [
        [names[referrer][0], {"GB": "United Kingdom", "FR": "France"}[names[referrer][1]], str(n)]
        for referrer, n in sorted(by_referrer.items(), key=lambda item: (-item[1], item[0]))]
    assert re.search(rf'data-figure="through-links">\s*{sum(by_referrer.values())}<', html)
    assert re.search(rf'data-figure="referrers">\s*{len(by_referrer)}<', html)
    assert re.search(rf'data-figure="confirmed">\s*{len(rows)}<', html)

    columns = [name for name, _ in by_source[:referrals.DAY_COLUMNS]]
    heading, *days = found["by-day-title"]
    assert heading == ["Day"] + [shown(name) for name in columns] + ["Other sources"]
    per_day = Counter((row.confirmed_at.date(), row.source or "" if (row.source or "") in columns else None)
                      for row in rows)
    expected = [[format_date(day, "medium", locale="en")] + [str(per_day[(day, name)]) for name in columns + [None]]
                for day in sorted({row.confirmed_at.date() for row in rows}, reverse=True)]
    assert days == expected


def test_the_sources_page_names_referrers_by_first_name_and_country_only(sourced, client):
    log_in(client)
    html = client.get("/organiser/c/sourced/sources").get_data(as_text=True)
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html and "<b>Eve</b>" not in html
    for secret in ("@example.com", "Familyname"):
        assert secret not in html
    assert "elsewhere" not in html, "another campaign's sources are not counted"


def test_long_lists_are_cut_and_point_to_the_export(sourced, client, monkeypatch):
    monkeypatch.setattr(referrals, "TOP_SOURCES", 2)
    log_in(client)
    html = client.get("/organiser/c/sourced/sources").get_data(as_text=True)
    found = tables(html)
    assert len(found["by-source-title"]) == 1 + 2
    distinct = len({row.source or "" for row in confirmed_rows(sourced.id)})
    assert f"Showing the first 2 of {distinct} sources: the export has them all." in html
    assert "/organiser/c/sourced/export/counts?by=source&amp;format=csv" in html


def test_the_days_shown_end_with_the_latest_confirmation(sourced, client, monkeypatch):
    """Only the last DAYS days up to the latest confirmation are in the table."""
    monkeypatch.setattr(referrals, "DAYS", 2)
    report = referrals.sources_report(sourced.id)
    assert [day.day for day in report.days] == [D3]


def test_a_campaign_with_no_signatures_has_an_empty_sources_page(ctx, client):
    make_organiser(campaigns=[make_campaign(slug="quiet")])
    log_in(client)
    response = client.get("/organiser/c/quiet/sources")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No confirmed signatures yet." in html and "Nobody has signed through a signer’s link yet." in html


def test_the_campaign_menu_leads_to_the_sources_page(sourced, client):
    log_in(client)
    html = client.get("/organiser/c/sourced/").get_data(as_text=True)
    assert 'href="/organiser/c/sourced/sources">Sources</a>' in html
