"""The campaign page as the public sees it (its pledge, count, signers and
forms), and the pages after signing. The public blueprint serves them;
organisers preview a draft with the same template.

A page is built in two steps. Everything that changes only when an
organiser edits the campaign (the text and story, the window, the sign form
with its 250 countries and the campaign's questions, the approved
businesses with their timelines, the scorecard of demands) is rendered once
per campaign edition, language (and whether its address names it: see
locales.page_variant), window state and page token, with a slot (see
campaign/skeletons) where the count, the goal and the recent signers go.
Each request then reads those in one round trip (campaign/page_reads) and
fills the slots: a string join, not a render. A form sent back with errors,
or an organiser's preview, is rendered whole."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from flask import get_template_attribute, render_template, url_for
from markupsafe import Markup, escape

from . import businesses, formats, locales, questions, reasons, scorecard, signing, translations
from .built_once import BuiltOnce
from .extensions import db
from .models import Campaign, Kind, utcnow
from .page_reads import LiveCampaign, campaign_now, live_campaign
from .pause_periods import default_period
from .public_forms import BusinessForm, ResendForm, sign_form_class
from .shared_pages import page_token
from .sharing import share_links
from .signing import CampaignSummary
from .site_settings import site
from .skeletons import Skeleton, slot
from .windows import describe_window

# Each app's skeletons, the most recently used kept; one build per key (see built_once).
_SKELETONS: BuiltOnce[Skeleton] = BuiltOnce("campaign_page", maxsize=1024)


def _skeleton(key: tuple, build: Callable[[], Skeleton]) -> Skeleton:
    """The skeleton for ``key``, built by ``build`` the first time. Keys
    carry the campaign's edition and the site settings' version, so an edit
    makes a new key; old ones fall out of the cache as it fills."""
    return _SKELETONS.get(key, build)


# --- Its language ------------------------------------------------------------------

def campaign_language(campaign) -> str | None:
    """The language a page of ``campaign`` (a Campaign, a LiveCampaign or
    SigningTerms) shows it in: the one its address names, if the campaign
    is published in it, else (no language in the address) its default.
    None when the address names a language the campaign is not published
    in: a page the public opens then redirects to its address without it,
    so nobody reads a campaign half in one language and half in another."""
    named = locales.language_in_path()
    if named is None:
        locales.use_language(campaign.default_language)
        return campaign.default_language
    return named if named in translations.page_languages(campaign) else None


def answer_language(campaign) -> str:
    """The language of a page that answers a POST, or of a page that does
    not redirect: as campaign_language, else the campaign's default."""
    return campaign_language(campaign) or campaign.default_language


def _shown(campaign: Campaign, language: str) -> translations.CampaignInLanguage:
    return translations.in_language(campaign, language)


# --- The campaign page -----------------------------------------------------------

def public_page(live: LiveCampaign, language: str) -> tuple[str, float]:
    """The public page of the public campaign ``live`` in ``language`` (one
    it is published in, see campaign_language) and when what it shows was
    read (time.monotonic())."""
    now = utcnow()
    state = live.window_state(now)
    key = ("campaign", live.id, live.edition, site().version, locales.page_variant(), language, state, page_token())
    skeleton = _skeleton(key, lambda: _campaign_skeleton(_campaign(live), now, language=language))
    return skeleton.fill(_live_values(live, skeleton)), live.read_at


def render_campaign(campaign: Campaign, sign_form=None, business_form=None, status=200, preview=False,
                    link_codes: dict | None = None, language: str | None = None):
    """The page rendered whole: with a form sent back with its errors (and
    the link's source codes it carried), or as a preview for organisers
    (``preview``; drafts too, and in ``language`` whether it is published
    or not)."""
    live = campaign_now(campaign)
    skeleton = _campaign_skeleton(campaign, utcnow(), sign_form, business_form, preview, link_codes,
                                  language or answer_language(campaign))
    return skeleton.fill(_live_values(live, skeleton)), status


def _campaign(live: LiveCampaign) -> Campaign:
    campaign = db.session.get(Campaign, live.id)
    assert campaign is not None  # campaigns are never deleted
    return campaign


# Where the values read on each request go.
_LIVE_SLOTS = {
    "count": Markup(slot("count")),
    "count_number": Markup(slot("countnumber")),
    "goal": Markup(slot("goal")),
    "goal_number": Markup(slot("goalnumber")),
    "signers": Markup(slot("signers")),
    "closed_sentence": Markup(slot("closed")),
    "took_part": Markup(slot("tookpart")),
    # A freeze's "I took part" answers (see check_ins).
    "checked_in": Markup(slot("checkedin")),
    "signed_up": Markup(slot("signedup")),
}
# The count and the goal alone (public/_live.html's tally), for the pages after signing.
_COUNT_SLOTS = {name: _LIVE_SLOTS[name] for name in ("count", "count_number", "goal", "goal_number")}


def _sign_form(campaign: Campaign, shown: translations.CampaignInLanguage):
    """The campaign's empty sign form, its questions and date question as ``shown`` words them."""
    return sign_form_class(questions.visible_questions(campaign.id), signing.asks_of(shown), shown.language)(
        postcode_required=campaign.postcode_required)


def _scorecard(campaign: Campaign, shown: translations.CampaignInLanguage) -> list[scorecard.Row]:
    """The scorecard (kept by the lines of the default language, see
    scorecard), each line as ``shown`` words it: the lines pair up in order."""
    rows = scorecard.scorecard_of(campaign)
    lines = shown.demand_list
    if len(lines) != len(rows):
        return rows
    return [dataclasses.replace(row, text=line) for row, line in zip(rows, lines, strict=True)]


def _campaign_skeleton(campaign: Campaign, now: dt.datetime, sign_form=None, business_form=None,
                       preview=False, link_codes: dict | None = None, language: str | None = None) -> Skeleton:
    shown = _shown(campaign, language or campaign.default_language)
    context = {
        "campaign": shown,
        "link_codes": link_codes,
        "window": describe_window(campaign, now),
        "form": sign_form or _sign_form(campaign, shown),
        "business_form": None,
        "businesses": [],
        "reasons": reasons.public_reasons(campaign.id) if campaign.kind == Kind.PLEDGE and campaign.asks_reason
        else [],
        "preview": preview,
        "share": share_links(shown),
        "scorecard": _scorecard(campaign, shown) if campaign.demand_list else [],
        "page_languages": translations.page_languages(campaign),
        **_LIVE_SLOTS,
    }
    if campaign.kind == Kind.BOYCOTT:
        start, end = default_period(campaign)
        context["business_form"] = business_form or BusinessForm(
            prefix="business", data={"pause_start": start, "pause_end": end})
        context["businesses"] = businesses.approved_businesses(campaign.id)
    return Skeleton(render_template("public/campaign.html", **context))


def _count_values(live: LiveCampaign) -> dict[str, str]:
    """The count and the goal: as the request's language writes them (the
    page is kept per language, but the figures are filled per request), and
    as plain digits for the bar and the script."""
    count, goal = live.count, live.displayed_goal
    return {"count": formats.number(count), "countnumber": str(count),
            "goal": formats.number(goal), "goalnumber": str(goal)}


def _live_values(live: LiveCampaign, skeleton: Skeleton) -> dict[str, str]:
    count = live.count
    values = {**_count_values(live), "signers": _fragment("signers", live.signers)}
    wanted = skeleton.slots
    if "closed" in wanted:
        values["closed"] = _fragment("closed", count)
    if "tookpart" in wanted:
        values["tookpart"] = _fragment("took_part", count)
    if "signedup" in wanted:
        values["signedup"] = _fragment("signed_up", count)
    if "checkedin" in wanted:
        values["checkedin"] = _fragment("checked_in", live.took_part)
    return values


def _fragment(name: str, *args) -> str:
    """A macro of public/_live.html: the parts that depend on the count or
    the signers, rendered on each request."""
    return str(get_template_attribute("public/_live.html", name)(*args))


# --- After signing -----------------------------------------------------------------

def page_after_signing(slug: str, template: str) -> str | None:
    """``template`` (thanks, business thanks) for campaign ``slug``: nothing
    on it changes between two visitors but the count, so it is rendered
    once per edition with slots for that (see _COUNT_SLOTS)."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        return None
    language = answer_language(live)
    key = (template, live.id, live.edition, site().version, locales.page_variant(), language)

    def build() -> Skeleton:
        campaign = _campaign(live)
        shown = _shown(campaign, language)
        return Skeleton(render_template(template, campaign=shown, share=share_links(shown),
                                        page_languages=translations.page_languages(campaign), **_COUNT_SLOTS))

    return _skeleton(key, build).fill(_count_values(live))


def thanks_page(slug: str, resent: bool = False) -> Callable[[str, str], str] | None:
    """The thank-you page in answer to a person's own sign POST (or their
    press of its "send the email again" button, ``resent``), as a function
    of the address they typed and the button's token, which it names and
    carries. Personal: the caller must let no cache keep it. Built once per
    edition, language, page token and ``resent``, with slots for the two.
    Ask for it before writing the signature: whatever it reads is then read,
    so a database failing after the write cannot turn a stored signature
    into an error page (and a second try)."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        return None
    language = answer_language(live)
    key = ("thanks", live.id, live.edition, site().version, locales.page_variant(), language, resent, page_token())

    def build() -> Skeleton:
        campaign = _campaign(live)
        shown = _shown(campaign, language)
        return Skeleton(render_template(
            "public/thanks.html", campaign=shown, share=share_links(shown), resent=resent,
            signed_as=Markup(slot("signedas")),
            resend_form=ResendForm(formdata=None, data={"token": slot("resendtoken")}),
            page_languages=translations.page_languages(campaign), **_COUNT_SLOTS))

    skeleton, counted = _skeleton(key, build), _count_values(live)
    return lambda email, resend_token: skeleton.fill({"signedas": str(escape(email)),
                                                      "resendtoken": str(escape(resend_token)), **counted})


def confirm_page(campaign: CampaignSummary, form, status: int = 200,
                 page_languages: list[str] | None = None) -> tuple[str, int]:
    """The page that confirms a signature: what will be recorded, as the
    last signing left it (or as the confirmer just sent it back), to check
    and change before pressing the button. Personal, so rendered whole.
    ``campaign`` as summary_in_page_language words it."""
    return render_template("public/confirm.html", campaign=campaign, form=form,
                           **({"page_languages": page_languages} if page_languages else {})), status


def summary_in_page_language(summary: CampaignSummary) -> tuple[CampaignSummary, list[str]]:
    """What the confirmation pages show of a campaign, in the page's
    language if the campaign is published in it (else its default), and the
    languages it is published in (for the language switcher)."""
    live = live_campaign(summary.slug, with_signers=False)
    if live is None:
        return summary, []
    language = answer_language(live)
    if language == live.default_language:
        return summary, translations.page_languages(live)
    text = translations.campaign_text(live, language)
    asks = summary.asks
    if asks is not None and asks.date_question is not None:
        asks = dataclasses.replace(asks, date_question=text.date_question or asks.date_question)
    shown = dataclasses.replace(summary, title=text.title or summary.title,
                                pledge_text=text.pledge_text or summary.pledge_text,
                                share_text=text.share_text or summary.share_text, asks=asks)
    return shown, translations.page_languages(live)


# --- The embed page -------------------------------------------------------------------

# What the embed page shows when it takes no signatures: a closed campaign's
# total, an ended freeze's result.
_EMBED_SLOTS = {**_COUNT_SLOTS, **{name: _LIVE_SLOTS[name] for name in ("closed_sentence", "signed_up",
                                                                         "checked_in")}}


def embed_page(live: LiveCampaign, language: str) -> str:
    """The embed page of a public campaign (see public/embed) in
    ``language`` (one it is published in, see campaign_language): its
    title, count and sign form, for a frame on a partner's site. The same
    for every visitor and every partner (who the partner is reaches the
    sign POST another way, see embeds), so it is kept like the campaign
    page: built once per edition, language, window state and page token,
    its count filled per request."""
    now = utcnow()
    key = ("embed", live.id, live.edition, site().version, locales.page_variant(), language,
           live.window_state(now), page_token())
    skeleton = _skeleton(key, lambda: _embed_skeleton(_campaign(live), now, language=language))
    return skeleton.fill(_embed_values(live, skeleton))


def render_embed(campaign: Campaign, sign_form, status: int, link_codes: dict | None = None,
                 partner: str | None = None) -> tuple[str, int]:
    """The embed page rendered whole, with a form sent back with its
    errors; it carries on what the POST said of where it came from (its
    link codes, the partner), which the frame's address no longer does."""
    live = campaign_now(campaign)
    skeleton = _embed_skeleton(campaign, utcnow(), sign_form, link_codes, partner, answer_language(campaign))
    return skeleton.fill(_embed_values(live, skeleton)), status


def _embed_skeleton(campaign: Campaign, now: dt.datetime, sign_form=None, link_codes: dict | None = None,
                    partner: str | None = None, language: str | None = None) -> Skeleton:
    shown = _shown(campaign, language or campaign.default_language)
    return Skeleton(render_template(
        "public/embed.html", campaign=shown, window=describe_window(campaign, now),
        form=sign_form or _sign_form(campaign, shown),
        sign_action=url_for("public.embed_sign", slug=campaign.slug, partner=partner), link_codes=link_codes,
        link_target="_blank", page_languages=translations.page_languages(campaign), **_EMBED_SLOTS))


def _embed_values(live: LiveCampaign, skeleton: Skeleton) -> dict[str, str]:
    values, wanted = _count_values(live), skeleton.slots
    for slot_name, fragment, count in (("closed", "closed", live.count), ("signedup", "signed_up", live.count),
                                       ("checkedin", "checked_in", live.took_part)):
        if slot_name in wanted:
            values[slot_name] = _fragment(fragment, count)
    return values


def embed_thanks_page(slug: str) -> Callable[[str, str], str] | None:
    """The thank-you page in the frame, in answer to a sign POST from the
    embed page: it names the address typed (a slot) and leads to the full
    campaign page. Personal, like thanks_page; its "send the email again"
    button is on the full page's, not here."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        return None
    language = answer_language(live)
    key = ("embed thanks", live.id, live.edition, site().version, locales.page_variant(), language)

    def build() -> Skeleton:
        campaign = _campaign(live)
        return Skeleton(render_template("public/embed_thanks.html", campaign=_shown(campaign, language),
                                        signed_as=Markup(slot("signedas")),
                                        page_languages=translations.page_languages(campaign), **_COUNT_SLOTS))

    skeleton, counted = _skeleton(key, build), _count_values(live)
    return lambda email, _resend_token: skeleton.fill({"signedas": str(escape(email)), **counted})
