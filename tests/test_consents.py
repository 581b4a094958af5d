"""Consent on record: each signature names the version of the words its
sign form showed (the pledge, every box, the organiser's yes-or-no
questions); a change of wording makes the next version and the same
wording keeps its own; the signer list names the version, and organisers
read every version, word for word, on the campaign's Consents page."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, func, select

from campaign import campaigns, consents, exports, questions, signing
from campaign.extensions import db
from campaign.models import ConsentVersion, Kind, Signature, SignatureStatus, SignQuestion

from .builders import (
    at_once,
    confirm_signature,
    csrf_token,
    hours_from_now,
    log_in,
    make_campaign,
    make_organiser,
    sign,
    valid_pledge,
)

PLEDGE_TEXT = "I pledge to keep my ads off the network until it meets our demands."
MEMBER = "Are you a member of the union?"
EMAIL_BOX = "Email me updates about this campaign"
NAME_BOX = "Show my first name on the public list"
REMINDER_BOX = "Email me a reminder the day before and when it starts"
REASON_BOX = "Show my reason on this page (we read it first)"
NEXT_WEEK = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)).isoformat()


class _ShownWords(HTMLParser):
    """What a sign page shows a signer agreeing to: the pledge (its
    blockquote), and in the sign form the label of every checkbox and the
    legend of every yes-or-no question, as a person reads them."""

    def __init__(self):
        super().__init__()
        self.pledge: list[str] = []
        self.boxes: set[str] = set()
        self.labels: dict[str, str] = {}
        self.legends: list[str] = []
        self._into: list | None = None
        self._label_for: str | None = None
        self._skip = 0
        self._in_sign_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_sign_form = (attrs.get("action") or "").split("?")[0].endswith("/sign")
        if tag == "blockquote" and "pledge-text" in (attrs.get("class") or ""):
            self._into = self.pledge
            self.pledge.append("")
        elif not self._in_sign_form:
            return
        elif tag == "input" and attrs.get("type") == "checkbox":
            self.boxes.add(attrs["id"])
        elif tag == "label" and attrs.get("for"):
            self._label_for = attrs["for"]
            self.labels[self._label_for] = ""
        elif tag == "legend":
            self._into = self.legends
            self.legends.append("")
        elif tag == "span" and "optional" in (attrs.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_sign_form = False
        elif tag in ("blockquote", "legend"):
            self._into = None
        elif tag == "label":
            self._label_for = None
        elif tag == "span" and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._skip:
            return
        if self._into is not None:
            self._into[-1] += data
        elif self._label_for is not None:
            self.labels[self._label_for] += data

    def words(self) -> list[str]:
        shown = [text.strip() for text in self.pledge + self.legends]
        shown += [self.labels[box].strip() for box in self.boxes]
        return sorted(shown)


def words_on(html: str) -> list[str]:
    reader = _ShownWords()
    reader.feed(html)
    return reader.words()


def version_of(email: str = "ada@example.com") -> ConsentVersion | None:
    version_id = db.session.execute(select(Signature.consent_version_id)
                                    .where(Signature.email == email)).scalar_one()
    return None if version_id is None else db.session.get(ConsentVersion, version_id)


def number_of(email: str) -> int | None:
    version = version_of(email)
    return None if version is None else version.number


def post_sign(client, slug: str, path: str | None = None, page: str | None = None, **fields):
    """Fill the form of ``page`` (the campaign page by default) as shown and
    post it where that form posts."""
    html = client.get(page or f"/c/{slug}").get_data(as_text=True)
    data = {k: v for k, v in valid_pledge(**fields).items() if v is not None}
    data["csrf_token"] = csrf_token(html)
    response = client.post(path or f"/c/{slug}/sign", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    return html


# --- What a signature records ---------------------------------------------------------------

def _pledge_asking_everything():
    campaign = make_campaign(slug="everything", kind=Kind.PLEDGE, pledge_text=PLEDGE_TEXT, asks_date=True,
                             date_question="I will start on", asks_reason=True)
    member = questions.add_question(campaign, MEMBER, "yesno", required=True)
    questions.add_question(campaign, "Organisation", "text")  # not a consent
    return campaign, {f"question_{member.id}": "yes", "pledge_date": NEXT_WEEK, "reason": "Because."}, {
        "pledge": PLEDGE_TEXT, f"question:{member.id}": MEMBER, "reason_public": REASON_BOX,
        "email_opt_in": EMAIL_BOX, "show_name": NAME_BOX}


def _freeze():
    campaign = make_campaign(slug="freeze", kind=Kind.FREEZE, pledge_text="I will not post for a day.",
                             window_start=hours_from_now(24), window_end=hours_from_now(48))
    return campaign, {}, {"pledge": "I will not post for a day.", "reminder_opt_in": REMINDER_BOX,
                          "email_opt_in": EMAIL_BOX, "show_name": NAME_BOX}


def _boycott():
    campaign = make_campaign(slug="boycott", kind=Kind.BOYCOTT, pledge_text="I support the boycott.")
    return campaign, {}, {"pledge": "I support the boycott.", "email_opt_in": EMAIL_BOX, "show_name": NAME_BOX}


@pytest.mark.parametrize("made", [_pledge_asking_everything, _freeze, _boycott], ids=["pledge", "freeze", "boycott"])
@pytest.mark.parametrize("where", ["campaign page", "embed page"])
def test_a_signature_records_the_words_its_form_showed(app, client, made, where):
    """The version's texts are the pledge and the consents the page showed,
    word for word: no more (a text question is no consent), no fewer."""
    with app.app_context():
        campaign, answers, expected = made()
        slug = campaign.slug
        campaign.embed_origins = "https://partner.example"
        db.session.commit()
    if where == "campaign page":
        html = post_sign(client, slug, **answers)
    else:
        html = post_sign(client, slug, page=f"/c/{slug}/embed", path=f"/c/{slug}/embed/sign", **answers)
    with app.app_context():
        version = version_of()
        assert version is not None and version.number == 1
        assert version.texts == expected
        assert sorted(version.texts.values()) == words_on(html)
        assert version.digest == consents.digest_of(expected)


def test_the_same_words_on_both_forms_are_one_version(app, client):
    """The campaign page and its embed page show the same words: one version."""
    with app.app_context():
        make_campaign(slug="both", embed_origins="https://partner.example")
    post_sign(client, "both")
    post_sign(client, "both", page="/c/both/embed", path="/c/both/embed/sign", email="grace@example.com")
    with app.app_context():
        assert number_of("ada@example.com") == number_of("grace@example.com") == 1
        assert db.session.scalar(select(func.count()).select_from(ConsentVersion)) == 1


def test_the_same_wording_twice_is_one_version(app, client):
    with app.app_context():
        make_campaign(slug="steady")
    for email in ("ada@example.com", "grace@example.com", "alan@example.com"):
        sign(client, "steady", email=email)
    with app.app_context():
        ids = db.session.execute(select(Signature.consent_version_id)).scalars().all()
        assert len(ids) == 3 and len(set(ids)) == 1 and None not in ids
        assert db.session.scalar(select(func.count()).select_from(ConsentVersion)) == 1


def test_a_change_of_wording_makes_the_next_version_and_earlier_signers_keep_theirs(app, client):
    """The organiser edits the pledge text: later signers agree to version 2,
    earlier ones still to 1; a question's label changed makes 3; the first
    wording again is version 1 again, not a new one."""
    with app.app_context():
        campaign = make_campaign(slug="changing", pledge_text="I will log off on Fridays.")
        member = questions.add_question(campaign, MEMBER, "yesno").id
    sign(client, "changing", email="first@example.com")
    with app.app_context():
        campaigns.update_campaign(campaigns.campaign_by_slug("changing"),
                                  {"pledge_text": "I will log off on Fridays and Saturdays."})
    sign(client, "changing", email="second@example.com")
    with app.app_context():
        questions.edit_question(db.session.get(SignQuestion, member), "Are you a member of a union?", "yesno")
    sign(client, "changing", email="third@example.com")
    with app.app_context():
        questions.edit_question(db.session.get(SignQuestion, member), MEMBER, "yesno")
        campaigns.update_campaign(campaigns.campaign_by_slug("changing"), {"pledge_text": "I will log off on Fridays."})
    sign(client, "changing", email="fourth@example.com")

    with app.app_context():
        assert [number_of(f"{n}@example.com") for n in ("first", "second", "third", "fourth")] == [1, 2, 3, 1]
        texts = {v.number: v.texts for v in db.session.execute(select(ConsentVersion)).scalars()}
        assert texts[1]["pledge"] == "I will log off on Fridays." and texts[1][f"question:{member}"] == MEMBER
        assert texts[2]["pledge"] == "I will log off on Fridays and Saturdays."
        assert texts[2][f"question:{member}"] == MEMBER
        assert texts[3][f"question:{member}"] == "Are you a member of a union?"


def test_a_hidden_question_is_not_part_of_the_wording(app, client):
    with app.app_context():
        campaign = make_campaign(slug="hiding")
        question = questions.add_question(campaign, MEMBER, "yesno")
        questions.set_hidden(question, True)
    sign(client, "hiding")
    with app.app_context():
        assert set(version_of().texts) == {"pledge", "email_opt_in", "show_name"}


def test_signing_again_while_pending_records_the_new_words_and_once_confirmed_keeps_the_old(app, client):
    """Signing again while pending stores the new choices, so the words they
    were given to; a confirmed signature keeps its choices and its words."""
    with app.app_context():
        make_campaign(slug="again", pledge_text="Old words.")
    sign(client, "again", email="pending@example.com")
    sign(client, "again", email="confirmed@example.com")
    with app.app_context():
        confirm_signature(db.session.execute(select(Signature).where(
            Signature.email == "confirmed@example.com")).scalar_one())
        campaigns.update_campaign(campaigns.campaign_by_slug("again"), {"pledge_text": "New words."})
    sign(client, "again", email="pending@example.com", given_name="Ada")
    sign(client, "again", email="confirmed@example.com", given_name="Changed")
    with app.app_context():
        assert number_of("pending@example.com") == 2
        assert number_of("confirmed@example.com") == 1
        assert db.session.scalar(select(Signature.given_name).where(
            Signature.email == "confirmed@example.com")) == "Ada"


def test_a_signature_not_made_through_a_form_names_no_version(ctx):
    campaign = make_campaign()
    signing.sign(campaign, signing.Pledge("Sam", "Signer", "sam@example.com", "GB", None, False, False))
    assert version_of("sam@example.com") is None


def _version_statements(app, work) -> list[str]:
    """The statements ``work()`` sends that read or write consent versions."""
    sent = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *rest: sent.append(statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return [s for s in sent if re.search(r"\bconsent_version\b(?!_id)", s)]


def test_once_a_wording_is_known_signing_spends_no_statement_on_it(app, client):
    """The first signer's POST finds or makes the version; later ones find
    its id in the process's memory."""
    with app.app_context():
        make_campaign(slug="busy")
    first = _version_statements(app, lambda: sign(client, "busy"))
    later = _version_statements(app, lambda: [sign(client, "busy", email=f"s{n}@example.com") for n in range(3)])
    assert first and later == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Signature.id)).where(Signature.consent_version_id.is_not(None))) == 4


# --- Racing workers ---------------------------------------------------------------------------

def test_racing_first_signers_share_one_version(app, backend):
    """Four workers' first signers arrive at once: one version between them."""
    if backend != "postgresql":
        pytest.skip("SQLite writes one at a time: there is no race to lose")
    with app.app_context():
        campaign_id = make_campaign(slug="racing").id
    emails = iter(f"racer{n}@example.com" for n in range(4))
    texts = {"pledge": "I pledge to take part.", "email_opt_in": EMAIL_BOX, "show_name": NAME_BOX}

    def first_signer():
        pledge = signing.Pledge("Sam", "Racer", next(emails), "GB", None, False, False, consent_texts=texts)
        return signing.sign(signing.SigningTerms(campaign_id, "racing", "live", postcode_required=False), pledge)

    assert set(at_once(app, first_signer)) == {signing.SignOutcome.NEW}
    with app.app_context():
        assert db.session.execute(select(ConsentVersion.number)).scalars().all() == [1]
        ids = db.session.execute(select(Signature.consent_version_id)).scalars().all()
        assert len(ids) == 4 and len(set(ids)) == 1 and None not in ids


def test_racing_new_wordings_get_numbers_of_their_own(app, backend):
    """Four different wordings made at once: four versions numbered 1 to 4,
    none lost to a number another took first."""
    if backend != "postgresql":
        pytest.skip("SQLite writes one at a time: there is no race to lose")
    with app.app_context():
        campaign_id = make_campaign(slug="wordings").id
    wordings = iter(f"Wording {n}" for n in range(4))

    def new_wording():
        wording = next(wordings)
        return wording, consents.version_id(campaign_id, {"pledge": wording})

    made = dict(at_once(app, new_wording))
    with app.app_context():
        stored = {v.texts["pledge"]: (v.id, v.number) for v in db.session.execute(select(ConsentVersion)).scalars()}
    assert {wording: number_id for wording, (number_id, _) in stored.items()} == made
    assert sorted(number for _, number in stored.values()) == [1, 2, 3, 4]


# --- The signer list ------------------------------------------------------------------------

def _signer_list(client, slug: str) -> list[dict]:
    response = client.get(f"/organiser/c/{slug}/export/signers.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    response.close()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_the_signer_list_names_each_signatures_version(app, client):
    """The consent_version column: the number, empty for a signature from
    before versions were recorded."""
    with app.app_context():
        campaign = make_campaign(slug="listed")
        make_organiser(campaigns=[campaign])
        db.session.add(Signature(campaign_id=campaign.id, given_name="Early", family_name="Bird",
                                 email="early@example.com", email_normalised="early@example.com", country="GB",
                                 status=SignatureStatus.CONFIRMED))
        db.session.commit()
    sign(client, "listed", email="ada@example.com")
    with app.app_context():
        campaigns.update_campaign(campaigns.campaign_by_slug("listed"), {"pledge_text": "Better words."})
    sign(client, "listed", email="grace@example.com")
    log_in(client)
    rows = _signer_list(client, "listed")
    assert [(row["email"], row["consent_version"]) for row in rows] == [
        ("early@example.com", ""), ("ada@example.com", "1"), ("grace@example.com", "2")]


def test_both_ways_of_writing_the_signer_list_give_the_same_consent_versions(app, client, backend):
    """PostgreSQL's COPY and the portable path write the same cells."""
    with app.app_context():
        campaign = make_campaign(slug="two-ways")
        questions.add_question(campaign, MEMBER, "yesno")
        db.session.add(Signature(campaign_id=campaign.id, given_name="Early", family_name="Bird",
                                 email="early@example.com", email_normalised="early@example.com", country="GB"))
        db.session.commit()
        campaign_id = campaign.id
    sign(client, "two-ways", email="ada@example.com")
    with app.app_context():
        campaigns.update_campaign(db.session.get(type(campaign), campaign_id), {"pledge_text": "Other words."})
    sign(client, "two-ways", email="grace@example.com")
    with app.app_context():
        exported = questions.exported_questions(campaign_id)
        follow_through = exports._follow_through_columns(campaign_id)
        header = exports.SIGNER_COLUMNS + [q.label for q in exported] + follow_through
        python = "".join(exports._signers_in_batches(campaign_id, 1, header, [q.id for q in exported],
                                                     follow_through))
        whole = "".join(c.decode() if isinstance(c, bytes) else c for c in exports.stream_signers(campaign_id))
        db.session.rollback()
    cells = list(csv.reader(io.StringIO(python, newline="")))
    column = cells[0].index("consent_version")
    assert [row[column] for row in cells[1:]] == ["", "1", "2"]
    assert list(csv.reader(io.StringIO(whole, newline=""))) == cells
    assert whole == (python if backend == "sqlite" else python.replace("\r\n", "\n"))


# --- The organisers' Consents page ------------------------------------------------------------

def test_organisers_read_every_version_word_for_word(app, client):
    """Number, when first used, how many agreed, and each text in full; an
    organiser's label with markup in it shows as the text it is."""
    label = "<script>alert('x')</script> Are you a member?"
    with app.app_context():
        campaign = make_campaign(slug="recorded", pledge_text="I pledge & promise <b>not</b> to post.")
        question = questions.add_question(campaign, label, "yesno").id
        make_organiser(campaigns=[campaign])
        db.session.add(Signature(campaign_id=campaign.id, given_name="Early", family_name="Bird",
                                 email="early@example.com", email_normalised="early@example.com", country="GB"))
        db.session.commit()
    for email in ("ada@example.com", "grace@example.com"):
        sign(client, "recorded", email=email)
    with app.app_context():
        campaigns.update_campaign(campaigns.campaign_by_slug("recorded"), {"pledge_text": "Second words."})
        assert version_of("ada@example.com").texts[f"question:{question}"] == label, "stored as shown, unescaped"
    sign(client, "recorded", email="alan@example.com")

    log_in(client)
    dashboard = client.get("/organiser/c/recorded/").get_data(as_text=True)
    assert 'href="/organiser/c/recorded/consents"' in dashboard, "linked from the campaign's pages"
    page = client.get("/organiser/c/recorded/consents")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Are you a member?" in html
    assert "I pledge &amp; promise &lt;b&gt;not&lt;/b&gt; to post." in html
    assert html.index('data-version="2"') < html.index('data-version="1"'), "newest first"
    second, first = html.split('data-version="2"')[1].split('data-version="1"')
    assert 'data-signatures="1"' in second and "Second words." in second and "1 signature agreed to it" in second
    assert 'data-signatures="2"' in first and "2 signatures agreed to it" in first
    for text in (EMAIL_BOX, NAME_BOX):
        assert second.count(text) == first.count(text) == 1
    assert "1 signature was made before wordings were recorded" in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', first)


def test_a_campaign_nobody_has_signed_has_an_empty_record(ctx, client):
    campaign = make_campaign(slug="quiet")
    make_organiser(campaigns=[campaign])
    log_in(client)
    html = client.get("/organiser/c/quiet/consents").get_data(as_text=True)
    assert "Nobody has signed since wordings were recorded." in html and "data-version" not in html


def test_the_consents_page_is_only_for_the_campaigns_organisers(ctx, client):
    ours = make_campaign(slug="ours")
    make_organiser("outsider@example.com", campaigns=[make_campaign(slug="theirs")])
    make_organiser(campaigns=[ours])
    assert client.get("/organiser/c/ours/consents").status_code == 302
    log_in(client, "outsider@example.com")
    assert client.get("/organiser/c/ours/consents").status_code == 404
