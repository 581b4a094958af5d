"""A campaign's embed page, on the public blueprint: its count and sign form
in a frame on a partner's site, which only the campaign's partners (or
anyone, if its organisers say so) may frame (see embeds).

The page is the same for every visitor and partner, so it is kept and
served like the campaign page (built once per edition, kept a second in
front of Flask, cacheable by a CDN). Its form posts to the frame's own
sign route: the same checks as the campaign page's (a page token, and the
browser's word that the POST comes from our own page, which a frame of
ours on a partner's site is and the partner's page itself is not), the
same thank-you page in the frame, and no cookie needed anywhere, so
signing works where browsers block third-party cookies."""
from __future__ import annotations

from flask import abort, current_app, g, make_response, request

from .. import embeds, provenance
from ..campaign_page import campaign_language, embed_page, embed_thanks_page, render_embed
from ..extensions import csrf
from ..http import allow_framing
from ..page_reads import LiveCampaign, live_campaign
from ..shared_pages import cache_publicly
from .views import _any_campaign, bp, signing_limit, take_signature, without_language


def _framed_by_partners(slug: str) -> tuple[LiveCampaign, embeds.Embedding]:
    """The public campaign and its embedding; this response (whatever it
    turns out to be: the page, the form with errors, an expired form's
    400) may be framed by its partners. 404 for a draft or no campaign."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        abort(404)
    embedded = embeds.embedding(live.id, live.edition)
    g.frame_ancestors = embedded.frame_ancestors
    return live, embedded


@bp.after_request
def _let_partners_frame(response):
    sources = g.get("frame_ancestors")
    return allow_framing(response, sources) if sources else response


@bp.get("/c/<slug>/embed")
def embed(slug: str):
    """The embed page, for an <iframe> (static/embed.js inserts one)."""
    live, _ = _framed_by_partners(slug)
    language = campaign_language(live)
    if language is None:  # not published in the address's language: the frame shows the campaign's own
        return without_language()
    return cache_publicly(make_response(embed_page(live, language)), live.read_at)


def _thanks_in_the_frame(slug: str):
    page = embed_thanks_page(slug)
    if page is None:
        abort(404)
    return page


@bp.post("/c/<slug>/embed/sign")
@csrf.exempt  # checked by the form itself: see shared_pages
@signing_limit
@_any_campaign
def embed_sign(slug: str):
    """A signature from the embed page: as from the campaign page, and
    recorded as the partner's (see embeds.signature_provenance)."""
    _, embedded = _framed_by_partners(slug)
    ours = (current_app.config["SITE_URL"], request.host_url)
    link = provenance.of_request(request, ours[0])
    claim = embeds.claimed_partner((request.form.get(embeds.PARTNER_KEY), request.args.get(embeds.PARTNER_KEY)),
                                   request.headers.get("Referer"), ours)

    def sent_back(campaign, form):
        return render_embed(campaign, form, 422, link_codes=link.as_fields(),
                            partner=claim[:embeds.MAX_ORIGIN_LENGTH] if embedded.credits(claim) else None)

    return take_signature(slug, sent_back=sent_back, thanks=_thanks_in_the_frame,
                          provenance_of=lambda: embeds.signature_provenance(link, claim, embedded))
