"""Where a signature came from: a link's ?source= / utm_* codes and the
signer whose share link it was, as the sign POST records them (from the
form's hidden fields, else from the Referer of our own page), normalised
and capped; and the campaign page, which never varies with them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from campaign import moderation, provenance, signing
from campaign.extensions import db
from campaign.models import Signature

from .builders import confirmed_signatures, csrf_token, form_values, make_campaign, valid_pledge

SITE = "http://campaigns.test"


def sign_with(client, slug: str, referer: str | None = None, headers: dict | None = None, **fields):
    """Sign from the campaign page, with the hidden link fields (``source``,
    ``utm_medium``, ``utm_campaign``, ``ref``) and the Referer given."""
    page = client.get(f"/c/{slug}")
    data = {**valid_pledge(), "csrf_token": csrf_token(page.get_data(as_text=True)), **fields}
    sent = dict(headers or {})
    if referer is not None:
        sent["Referer"] = referer
    return client.post(f"/c/{slug}/sign", data=data, headers=sent)


def stored(email: str = "ada@example.com") -> Signature:
    db.session.expire_all()
    return db.session.execute(select(Signature).where(Signature.email == email)).scalar_one()


def where(signature: Signature) -> tuple:
    return signature.source, signature.medium, signature.source_campaign


# --- Normalising ---------------------------------------------------------------------

@pytest.mark.parametrize("value, recorded", [
    ("Newsletter", "newsletter"),
    ("NEWS_letter.2024", "news_letter.2024"),
    ("  news letter  ", "news-letter"),
    ("news   --  letter", "news-letter"),
    ("<script>alert(1)</script>", "script-alert-1-script"),
    ("<b>", "b"),
    ('=HYPERLINK("http://evil.example")', "hyperlink-http-evil.example"),
    ("+1-555", "1-555"),
    ("@user", "user"),
    ("-cmd", "cmd"),
    ("a\r\n=1", "a-1"),
    ("a\x00b", "a-b"),
    ("Café Ünïcode", "cafe-unicode"),
    ("ｎｅｗｓ", "news"),
    ("日本語", None),
    ("..a..", "a"),
    ("x" * 100, "x" * 64),
    ("a" * 63 + "-b", "a" * 63),
    ("y" * 100_000, "y" * 64),
    ("", None),
    ("   ", None),
    ("---", None),
    (None, None),
    (42, None),
], ids=["case", "dots-and-underscores", "spaces", "runs", "markup", "tag", "formula", "plus", "at", "minus",
        "newline-formula", "nul", "accents", "full-width", "no-ascii-left", "edge-dots", "overlong",
        "cut-at-a-hyphen", "huge", "empty", "blank", "only-hyphens", "none", "not-text"])
def test_a_source_code_is_normalised_and_capped(value, recorded):
    """Lower case, ASCII letters/digits/._- only, at most 64 characters, never a formula's first character."""
    assert provenance.normalise(value) == recorded
    if recorded:
        assert len(recorded) <= provenance.LENGTH and recorded[0] not in "=+-@\t\r"


@pytest.mark.parametrize("value, code", [
    ("abcdefghjkmn", "abcdefghjkmn"),
    ("ABCDEFGHJKMN", "abcdefghjkmn"),
    (" abcdefghjkmn ", "abcdefghjkmn"),
    ("abcdefghjkm", None),
    ("abcdefghjkmnp", None),
    ("abcdefghjk0n", None),
    ("abcdefghjkl1", None),
    ("abcdefghjk-n", None),
    ("", None),
    (None, None),
], ids=["code", "upper-case", "spaces", "too-short", "too-long", "zero", "l-and-one", "hyphen", "empty", "none"])
def test_only_what_has_the_shape_of_a_referral_code_is_taken_for_one(value, code):
    assert provenance.referral_code(value) == code


def test_every_new_signature_gets_a_fresh_code_of_its_own(ctx, client):
    """Twelve characters from the unambiguous alphabet, different for each signer."""
    campaign = make_campaign(slug="codes")
    for n in range(5):
        assert sign_with(client, "codes", email=f"s{n}@example.com").status_code == 200
    codes = db.session.execute(select(Signature.referral_code).where(Signature.campaign_id == campaign.id)).scalars()
    codes = list(codes)
    assert len(set(codes)) == 5
    assert all(provenance.referral_code(code) == code for code in codes)


# --- The sign POST: hidden fields and the Referer ---------------------------------------

def test_the_referer_of_our_own_page_carries_the_codes(ctx, client):
    """Without script the fields are empty; the POST's Referer (our page, with its query) gives them."""
    make_campaign(slug="plain")
    sign_with(client, "plain", referer=f"{SITE}/c/plain?source=Newsletter&utm_medium=Email&utm_campaign=Spring%20Drive")
    assert where(stored()) == ("newsletter", "email", "spring-drive")


def test_a_form_sent_back_with_errors_keeps_the_links_codes(ctx, client):
    """Without script, the codes came in the Referer of the campaign page;
    the page that comes back with errors is the form's page now, so it
    carries them in its hidden fields, and the corrected POST records them."""
    campaign = make_campaign(slug="plain")
    [sharer] = confirmed_signatures(campaign, [("sharer@example.com", "GB")])
    link = f"{SITE}/c/plain?source=Newsletter&utm_medium=email&ref={sharer.referral_code}"
    refused = sign_with(client, "plain", referer=link, given_name="")
    assert refused.status_code == 422
    kept = form_values(refused.get_data(as_text=True))
    assert (kept["source"], kept["utm_medium"], kept["utm_campaign"], kept["ref"]) == (
        "newsletter", "email", "", sharer.referral_code)
    codes = {name: kept[name] for name in ("source", "utm_medium", "utm_campaign", "ref")}
    sign_with(client, "plain", referer=f"{SITE}/c/plain/sign", **codes)
    assert where(stored()) == ("newsletter", "email", None)
    assert stored().referred_by_id == sharer.id


def test_the_address_the_request_came_to_counts_as_our_own_too(ctx, client):
    """Behind a host name other than SITE_URL (the test client's own), the Referer is still ours."""
    make_campaign(slug="plain")
    sign_with(client, "plain", referer="http://localhost/c/plain?source=poster")
    assert stored().source == "poster"


@pytest.mark.parametrize("referer", [
    "https://evil.example/c/plain?source=evil",
    "http://campaigns.test.evil.example/c/plain?source=evil",
    "https://campaigns.test/c/plain?source=evil",
    "http://campaigns.test:8080/c/plain?source=evil",
    "not a url ?source=evil",
    "http://[::1/c/plain?source=evil",
], ids=["another-site", "a-look-alike-host", "another-scheme", "another-port", "not-a-url", "malformed"])
def test_a_referer_that_is_not_our_own_page_says_nothing(ctx, client, referer):
    """Another site's address (or something that is not an address) is not a source: it is ignored."""
    make_campaign(slug="plain")
    response = sign_with(client, "plain", referer=referer)
    assert response.status_code == 200
    assert where(stored()) == (None, None, None)


def test_the_hidden_fields_win_over_the_referer_field_by_field(ctx, client):
    """A field the script filled beats the Referer's; what the fields lack, the Referer adds."""
    make_campaign(slug="plain")
    sign_with(client, "plain", referer=f"{SITE}/c/plain?source=newsletter&utm_medium=email&utm_campaign=spring",
              source="Partner", utm_campaign="autumn")
    assert where(stored()) == ("partner", "email", "autumn")


@pytest.mark.parametrize("query, source", [
    ("utm_source=Mastodon", "mastodon"),
    ("source=poster&utm_source=mastodon", "poster"),
    ("utm_source=&source=poster", "poster"),
    ("utm_source=%3D%3D%3D&source=", None),
], ids=["utm-source", "source-first", "empty-utm-source", "nothing-left"])
def test_utm_source_is_the_source_when_there_is_no_source(ctx, client, query, source):
    make_campaign(slug="plain")
    sign_with(client, "plain", referer=f"{SITE}/c/plain?{query}")
    assert stored().source == source


@pytest.mark.parametrize("field, value, recorded", [
    ("source", "=cmd|' /C calc'!A0", ("cmd-c-calc-a0", None, None)),
    ("source", "<img src=x onerror=alert(1)>", ("img-src-x-onerror-alert-1", None, None)),
    ("source", "s" * 5000, ("s" * 64, None, None)),
    ("source", "\x00", (None, None, None)),
    ("source", "\u202enews", ("news", None, None)),
    ("utm_medium", "E-Mail ", (None, "e-mail", None)),
    ("utm_medium", "@mention", (None, "mention", None)),
    ("utm_campaign", "Spring 2031!", (None, None, "spring-2031")),
    ("utm_campaign", "-1+1", (None, None, "1-1")),
    ("ref", "<script>", (None, None, None)),
    ("ref", "x" * 5000, (None, None, None)),
], ids=["formula", "markup", "overlong", "nul", "bidi", "medium", "medium-at", "campaign", "campaign-minus",
        "ref-markup", "ref-overlong"])
def test_hostile_hidden_fields_are_recorded_harmless_and_never_fail_the_signing(ctx, client, field, value, recorded):
    """Whatever a hidden field holds, the signature is stored (same thank-you page) with the value normalised."""
    make_campaign(slug="plain")
    response = sign_with(client, "plain", **{field: value})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    signature = stored()
    assert where(signature) == recorded
    assert signature.referred_by_id is None


@pytest.mark.parametrize("query, source", [
    ("source=a&source=b", "a"),
    ("source=%00%ff%fe&utm_medium=%E2%80%AE", None),
    ("source=a&" + "&".join(f"k{n}=v" for n in range(5000)), None),
    ("source=a&&&;;==&=x", "a"),
    ("source=" + "%41" * 20000, "a" * 64),
], ids=["repeated", "odd-bytes", "thousands-of-fields", "empty-fields", "huge"])
def test_a_hostile_referer_never_fails_the_signing(ctx, client, query, source):
    """Repeated keys (the first counts), odd bytes, a made-up flood of fields: signed all the same."""
    make_campaign(slug="plain")
    response = sign_with(client, "plain", referer=f"{SITE}/c/plain?{query}")
    assert response.status_code == 200
    assert stored().source == source


# --- Referrals: who is credited --------------------------------------------------------

def test_a_signature_through_someones_link_names_them(ctx, client):
    campaign = make_campaign(slug="plain")
    [sharer] = confirmed_signatures(campaign, [("sharer@example.com", "GB")])
    sign_with(client, "plain", ref=sharer.referral_code.upper())
    assert stored().referred_by_id == sharer.id


def test_the_referer_carries_the_referral_too(ctx, client):
    campaign = make_campaign(slug="plain")
    [sharer] = confirmed_signatures(campaign, [("sharer@example.com", "GB")])
    sign_with(client, "plain", referer=f"{SITE}/c/plain?ref={sharer.referral_code}")
    assert stored().referred_by_id == sharer.id


@pytest.mark.parametrize("ref", ["nobody", "abcdefghjkmn", "abcdefghjkm0", ""],
                         ids=["not-a-code", "no-such-code", "misread-character", "empty"])
def test_a_bad_ref_is_ignored_and_the_signature_still_counts(ctx, client, ref):
    make_campaign(slug="plain")
    assert sign_with(client, "plain", ref=ref).status_code == 200
    signature = stored()
    assert signature.referred_by_id is None and signature.status == "pending"


def test_a_ref_of_another_campaigns_signature_credits_nobody(ctx, client):
    """A code is good only on its own campaign: someone's link cannot be pasted onto another."""
    make_campaign(slug="plain")
    [elsewhere] = confirmed_signatures(make_campaign(slug="elsewhere"), [("sharer@example.com", "GB")])
    sign_with(client, "plain", ref=elsewhere.referral_code)
    assert stored().referred_by_id is None


def test_a_ref_of_an_invalidated_signature_credits_nobody(ctx, client):
    campaign = make_campaign(slug="plain")
    [fraud] = confirmed_signatures(campaign, [("fraud@example.com", "GB")])
    code = fraud.referral_code
    moderation.invalidate(campaign, moderation.Criteria(email="fraud@example.com"), None, "fraud")
    sign_with(client, "plain", ref=code)
    assert stored().referred_by_id is None


def test_signing_again_while_pending_keeps_the_referrer_and_the_code(ctx, client):
    """The first link's credit stays, and so does the signer's own code (the first email's share link)."""
    campaign = make_campaign(slug="plain")
    first, second = confirmed_signatures(campaign, [("first@example.com", "GB"), ("second@example.com", "FR")])
    sign_with(client, "plain", ref=first.referral_code, source="newsletter")
    before = stored()
    code, referrer = before.referral_code, before.referred_by_id
    assert referrer == first.id
    sign_with(client, "plain", ref=second.referral_code, source="poster", given_name="Augusta")
    after = stored()
    assert (after.referral_code, after.referred_by_id) == (code, referrer)
    assert after.given_name == "Augusta", "signing again while pending still replaces the details"
    assert after.status == "pending"


def test_signing_again_after_confirming_changes_nothing_of_where_it_came_from(ctx, client):
    campaign = make_campaign(slug="plain")
    [signature] = confirmed_signatures(campaign, [("ada@example.com", "GB")])
    code = signature.referral_code
    [other] = confirmed_signatures(campaign, [("other@example.com", "GB")])
    sign_with(client, "plain", ref=other.referral_code, source="poster")
    after = stored()
    assert (after.referral_code, after.referred_by_id, after.source) == (code, None, None)


def test_the_service_records_what_it_is_given(ctx):
    """signing.Pledge(provenance=...) is how every way of signing records it."""
    campaign = make_campaign(slug="plain")
    signing.sign(campaign, signing.Pledge("Ada", "L", "ada@example.com", "GB", None, False, False,
                                          provenance=provenance.Provenance("poster", "print", "spring")))
    assert where(stored()) == ("poster", "print", "spring")


# --- The page itself never varies ------------------------------------------------------

@pytest.mark.parametrize("query", [
    "source=a", "utm_source=a&utm_medium=b&utm_campaign=c", "ref=abcdefghjkmn", "source=%3Cscript%3E",
], ids=["source", "utm", "ref", "markup"])
def test_the_campaign_page_is_the_same_whatever_the_link_carries(ctx, client, query):
    """One cached page for everyone: byte for byte, and the same ETag."""
    make_campaign(slug="plain")
    bare = client.get("/c/plain")
    carried = client.get(f"/c/plain?{query}")
    assert carried.status_code == bare.status_code == 200
    assert carried.get_data() == bare.get_data()
    assert carried.headers.get("ETag") == bare.headers.get("ETag")
    assert carried.headers["Cache-Control"] == bare.headers["Cache-Control"]
    assert 'name="source" value=""' in bare.get_data(as_text=True)
