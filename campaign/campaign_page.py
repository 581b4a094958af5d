"""The campaign page as the public sees it (its pledge, count, signers and
forms), and the pages after signing. The public blueprint serves them;
organisers preview a draft with the same template.

A page is built in two steps. Everything that changes only when an
organiser edits the campaign (the text and story, the window, the sign form
with its 250 countries and the campaign's questions, the approved
businesses) is rendered once per campaign edition, language, window state
and page token, with a slot (see campaign/skeletons) where the count, the
goal and the recent signers go. Each request then reads those in one round
trip (campaign/page_reads) and fills the slots: a string join, not a
render. A form sent back with errors, or an organiser's preview, is
rendered whole."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from cachetools import LRUCache
from flask import current_app, get_template_attribute, render_template
from flask_babel import get_locale
from markupsafe import Markup

from . import businesses, questions
from .extensions import db
from .models import Campaign, Kind, utcnow
from .page_reads import LiveCampaign, campaign_now, live_campaign
from .public_forms import BusinessForm, sign_form_class
from .shared_pages import page_token
from .sharing import share_links
from .signing import CampaignSummary
from .skeletons import Skeleton, slot
from .windows import describe_window


class _Kept:
    """The skeletons of one app (one database), most recently used kept."""

    def __init__(self):
        self.skeletons: LRUCache = LRUCache(maxsize=1024)
        self.lock = threading.Lock()


def _skeleton(key: tuple, build: Callable[[], Skeleton]) -> Skeleton:
    """The skeleton for ``key``, built by ``build`` the first time. Keys
    carry the campaign's edition, so an edit makes a new key; old ones
    fall out of the cache as it fills."""
    kept = current_app.extensions.get("campaign_page")
    if kept is None:
        kept = current_app.extensions.setdefault("campaign_page", _Kept())
    with kept.lock:
        skeleton = kept.skeletons.get(key)
    if skeleton is None:
        skeleton = build()
        with kept.lock:
            kept.skeletons[key] = skeleton
    return skeleton


# --- The campaign page -----------------------------------------------------------

def public_page(slug: str) -> tuple[str, float] | None:
    """The public page of campaign ``slug`` and when what it shows was read
    (time.monotonic()); None for no such campaign or a draft."""
    live = live_campaign(slug)
    if live is None or not live.is_public:
        return None
    now = utcnow()
    state = live.window_state(now)
    key = ("campaign", live.id, live.edition, str(get_locale()), state, page_token())
    skeleton = _skeleton(key, lambda: _campaign_skeleton(_campaign(live), now))
    return skeleton.fill(_live_values(live, skeleton)), live.read_at


def render_campaign(campaign: Campaign, sign_form=None, business_form=None, status=200, preview=False):
    """The page rendered whole: with a form sent back with its errors, or
    as a preview for organisers (``preview``; drafts too)."""
    live = campaign_now(campaign)
    skeleton = _campaign_skeleton(campaign, utcnow(), sign_form, business_form, preview)
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
}


def _campaign_skeleton(campaign: Campaign, now: dt.datetime, sign_form=None, business_form=None,
                       preview=False) -> Skeleton:
    context = {
        "campaign": campaign,
        "window": describe_window(campaign, now),
        "form": sign_form or sign_form_class(questions.visible_questions(campaign.id))(
            postcode_required=campaign.postcode_required),
        "business_form": None,
        "businesses": [],
        "preview": preview,
        **_LIVE_SLOTS,
    }
    if campaign.kind == Kind.BOYCOTT:
        context["business_form"] = business_form or BusinessForm(prefix="business")
        context["businesses"] = businesses.approved_businesses(campaign.id)
    return Skeleton(render_template("public/campaign.html", **context))


def _live_values(live: LiveCampaign, skeleton: Skeleton) -> dict[str, str]:
    count, goal = live.count, live.displayed_goal
    values = {"count": f"{count:,}", "countnumber": str(count), "goal": f"{goal:,}", "goalnumber": str(goal),
              "signers": _fragment("signers", live.signers)}
    wanted = skeleton.slots
    if "closed" in wanted:
        values["closed"] = _fragment("closed", count)
    if "tookpart" in wanted:
        values["tookpart"] = _fragment("took_part", count)
    return values


def _fragment(name: str, *args) -> str:
    """A macro of public/_live.html: the parts that depend on the count or
    the signers, rendered on each request."""
    return str(get_template_attribute("public/_live.html", name)(*args))


# --- After signing -----------------------------------------------------------------

def page_after_signing(slug: str, template: str) -> str | None:
    """``template`` (thanks, business thanks) for campaign ``slug``: nothing
    on it changes between two visitors, so it is rendered once per edition."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        return None
    key = (template, live.id, live.edition, str(get_locale()))

    def build() -> Skeleton:
        campaign = _campaign(live)
        return Skeleton(render_template(template, campaign=campaign, share=share_links(campaign)))

    return _skeleton(key, build).fill({})


def confirm_page(campaign: CampaignSummary, form, status: int = 200) -> tuple[str, int]:
    """The page that confirms a signature: what will be recorded, as the
    last signing left it (or as the confirmer just sent it back), to check
    and change before pressing the button. Personal, so rendered whole."""
    return render_template("public/confirm.html", campaign=campaign, form=form), status
