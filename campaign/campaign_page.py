"""The campaign page as the public sees it (its pledge, count, signers and
forms), and the pages after signing. The public blueprint serves them;
organisers preview a draft with the same template.

A page is built in two steps. Everything that changes only when an
organiser edits the campaign (the text and story, the window, the sign form
with its 250 countries and the campaign's questions, the approved
businesses with their timelines, the scorecard of demands) is rendered once per campaign edition, language, window state
and page token, with a slot (see campaign/skeletons) where the count, the
goal and the recent signers go. Each request then reads those in one round
trip (campaign/page_reads) and fills the slots: a string join, not a
render. A form sent back with errors, or an organiser's preview, is
rendered whole."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import get_template_attribute, render_template, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape

from . import businesses, questions, reasons, scorecard, signing
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


# --- The campaign page -----------------------------------------------------------

def public_page(slug: str) -> tuple[str, float] | None:
    """The public page of campaign ``slug`` and when what it shows was read
    (time.monotonic()); None for no such campaign or a draft."""
    live = live_campaign(slug)
    if live is None or not live.is_public:
        return None
    now = utcnow()
    state = live.window_state(now)
    key = ("campaign", live.id, live.edition, site().version, str(get_locale()), state, page_token())
    skeleton = _skeleton(key, lambda: _campaign_skeleton(_campaign(live), now))
    return skeleton.fill(_live_values(live, skeleton)), live.read_at


def render_campaign(campaign: Campaign, sign_form=None, business_form=None, status=200, preview=False,
                    link_codes: dict | None = None):
    """The page rendered whole: with a form sent back with its errors (and
    the link's source codes it carried), or as a preview for organisers
    (``preview``; drafts too)."""
    live = campaign_now(campaign)
    skeleton = _campaign_skeleton(campaign, utcnow(), sign_form, business_form, preview, link_codes)
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


def _campaign_skeleton(campaign: Campaign, now: dt.datetime, sign_form=None, business_form=None,
                       preview=False, link_codes: dict | None = None) -> Skeleton:
    context = {
        "campaign": campaign,
        "link_codes": link_codes,
        "window": describe_window(campaign, now),
        "form": sign_form or sign_form_class(questions.visible_questions(campaign.id), signing.asks_of(campaign))(
            postcode_required=campaign.postcode_required),
        "business_form": None,
        "businesses": [],
        "reasons": reasons.public_reasons(campaign.id) if campaign.kind == Kind.PLEDGE and campaign.asks_reason
        else [],
        "preview": preview,
        "share": share_links(campaign),
        "scorecard": scorecard.scorecard_of(campaign) if campaign.demand_list else [],
        **_LIVE_SLOTS,
    }
    if campaign.kind == Kind.BOYCOTT:
        start, end = default_period(campaign)
        context["business_form"] = business_form or BusinessForm(
            prefix="business", data={"pause_start": start, "pause_end": end})
        context["businesses"] = businesses.approved_businesses(campaign.id)
    return Skeleton(render_template("public/campaign.html", **context))


def _count_values(live: LiveCampaign) -> dict[str, str]:
    count, goal = live.count, live.displayed_goal
    return {"count": f"{count:,}", "countnumber": str(count), "goal": f"{goal:,}", "goalnumber": str(goal)}


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
    key = (template, live.id, live.edition, site().version, str(get_locale()))

    def build() -> Skeleton:
        campaign = _campaign(live)
        return Skeleton(render_template(template, campaign=campaign, share=share_links(campaign), **_COUNT_SLOTS))

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
    key = ("thanks", live.id, live.edition, site().version, str(get_locale()), resent, page_token())

    def build() -> Skeleton:
        campaign = _campaign(live)
        return Skeleton(render_template(
            "public/thanks.html", campaign=campaign, share=share_links(campaign), resent=resent,
            signed_as=Markup(slot("signedas")),
            resend_form=ResendForm(formdata=None, data={"token": slot("resendtoken")}), **_COUNT_SLOTS))

    skeleton, counted = _skeleton(key, build), _count_values(live)
    return lambda email, resend_token: skeleton.fill({"signedas": str(escape(email)),
                                                      "resendtoken": str(escape(resend_token)), **counted})


def confirm_page(campaign: CampaignSummary, form, status: int = 200) -> tuple[str, int]:
    """The page that confirms a signature: what will be recorded, as the
    last signing left it (or as the confirmer just sent it back), to check
    and change before pressing the button. Personal, so rendered whole."""
    return render_template("public/confirm.html", campaign=campaign, form=form), status


# --- The embed page -------------------------------------------------------------------

# What the embed page shows when it takes no signatures: a closed campaign's
# total, an ended freeze's result.
_EMBED_SLOTS = {**_COUNT_SLOTS, **{name: _LIVE_SLOTS[name] for name in ("closed_sentence", "signed_up",
                                                                         "checked_in")}}


def embed_page(live: LiveCampaign) -> str:
    """The embed page of a public campaign (see public/embed): its title,
    count and sign form, for a frame on a partner's site. The same for every
    visitor and every partner (who the partner is reaches the sign POST
    another way, see embeds), so it is kept like the campaign page: built
    once per edition, language, window state and page token, its count
    filled per request."""
    now = utcnow()
    key = ("embed", live.id, live.edition, site().version, str(get_locale()), live.window_state(now), page_token())
    skeleton = _skeleton(key, lambda: _embed_skeleton(_campaign(live), now))
    return skeleton.fill(_embed_values(live, skeleton))


def render_embed(campaign: Campaign, sign_form, status: int, link_codes: dict | None = None,
                 partner: str | None = None) -> tuple[str, int]:
    """The embed page rendered whole, with a form sent back with its
    errors; it carries on what the POST said of where it came from (its
    link codes, the partner), which the frame's address no longer does."""
    live = campaign_now(campaign)
    skeleton = _embed_skeleton(campaign, utcnow(), sign_form, link_codes, partner)
    return skeleton.fill(_embed_values(live, skeleton)), status


def _embed_skeleton(campaign: Campaign, now: dt.datetime, sign_form=None, link_codes: dict | None = None,
                    partner: str | None = None) -> Skeleton:
    form = sign_form or sign_form_class(questions.visible_questions(campaign.id), signing.asks_of(campaign))(
        postcode_required=campaign.postcode_required)
    return Skeleton(render_template(
        "public/embed.html", campaign=campaign, window=describe_window(campaign, now), form=form,
        sign_action=url_for("public.embed_sign", slug=campaign.slug, partner=partner), link_codes=link_codes,
        link_target="_blank", **_EMBED_SLOTS))


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
    key = ("embed thanks", live.id, live.edition, site().version, str(get_locale()))

    def build() -> Skeleton:
        return Skeleton(render_template("public/embed_thanks.html", campaign=_campaign(live),
                                        signed_as=Markup(slot("signedas")), **_COUNT_SLOTS))

    skeleton, counted = _skeleton(key, build), _count_values(live)
    return lambda email, _resend_token: skeleton.fill({"signedas": str(escape(email)), **counted})
