"""Public pages: campaigns, signing, confirming, counts."""
from __future__ import annotations

import dataclasses
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_wtf.csrf import CSRFError

from .. import (
    businesses,
    campaigns,
    consents,
    counts,
    locales,
    provenance,
    referrals,
    signing,
    subscriptions,
    time_zones,
    tokens,
    translations,
)
from ..campaign_page import (
    answer_language,
    campaign_language,
    confirm_page,
    page_after_signing,
    public_page,
    render_campaign,
    summary_in_page_language,
    thanks_page,
)
from ..campaigns import image_folder
from ..extensions import csrf, limiter
from ..models import Campaign, CampaignStatus, Kind, SignatureStatus, utcnow
from ..page_reads import live_campaign
from ..public_forms import (
    ANY_ASKS,
    BusinessForm,
    PublicForm,
    ResendForm,
    confirm_form_class,
    pledge_details,
    sign_form_class,
)
from ..shared_pages import cache_publicly
from ..sharing import share_links
from ..windows import calendar_file

bp = Blueprint("public", __name__)


def _public_campaign(slug: str) -> Campaign:
    """A live or closed campaign; drafts are not public."""
    campaign = campaigns.campaign_by_slug(slug)
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        abort(404)
    return campaign


def _per_campaign_ip() -> str:
    return f"{request.remote_addr}:{request.view_args.get('slug', '')}"


def _per_ip() -> str:
    return request.remote_addr or ""


# Signing and business pledges from one client address, across every
# campaign: a flood spread over many campaigns meets this limit too.
_any_campaign = limiter.shared_limit(lambda: current_app.config["RATELIMIT_SIGN_ANY_CAMPAIGN"], scope="signing",
                                     key_func=_per_ip)
# Signatures from one client address to one campaign, whichever form they
# come from (its page, its embed page on partner sites): one allowance.
signing_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_SIGN"], scope="sign",
                                     key_func=_per_campaign_ip)


@bp.url_value_preprocessor
def _in_the_campaigns_language(endpoint: str | None, values: dict | None) -> None:
    """A campaign's pages whose address names no language are in the
    campaign's own default language, and each of its pages offers the
    languages it is published in (see locales)."""
    slug = (values or {}).get("slug")
    if not isinstance(slug, str):
        return
    # The read the page itself makes next (kept for PUBLIC_LIVE_SECONDS): no statement more.
    live = live_campaign(slug, with_signers=endpoint == "public.campaign_page")
    if live is not None:
        locales.use_language(live.default_language)
        locales.offer_languages(translations.page_languages(live))


@bp.get("/")
def index():
    """Every live campaign with its count, so a visitor can pick one. At
    ``/``, a first-time visitor whose browser prefers another language we
    have is sent to that language's front page."""
    languages = locales.site_languages()
    elsewhere = locales.redirect_by_accept_language(languages)
    if elsewhere is not None:
        return elsewhere
    live = campaigns.live_campaigns()
    return locales.vary_by_accept_language(make_response(render_template(
        "public/index.html", campaigns=translations.listed_in(live, locales.page_language()),
        counts=counts.signature_counts([c.id for c in live]))), languages)


@bp.get("/c/<slug>")
def campaign_page(slug: str):
    """The campaign: its pledge, story, count and the signing form. The same
    for every visitor, so a CDN may keep it for a few seconds. At its
    address without a language, a visitor whose browser prefers another of
    the campaign's languages is sent to the page in it."""
    live = live_campaign(slug)
    if live is None or not live.is_public:
        abort(404)
    languages = translations.page_languages(live)
    elsewhere = locales.redirect_by_accept_language(languages)
    if elsewhere is not None:
        return elsewhere
    language = campaign_language(live)
    if language is None:
        return without_language()
    body, read_at = public_page(live, language)
    return locales.vary_by_accept_language(cache_publicly(make_response(body), read_at), languages)


def without_language():
    """A 302 to this page's address without the language it names: the
    campaign is not published in that language (or no longer is), and its
    page is never shown half in one language and half in another."""
    root = request.environ.get(locales.SITE_ROOT, request.script_root).rstrip("/")
    query = request.query_string.decode("latin-1")
    return redirect(root + quote(request.path, safe="/:@!$&'()*+,;=-._~") + (f"?{query}" if query else ""), 302)


def _not_in_this_language(slug: str):
    """For a page of campaign ``slug`` at an address naming a language it
    is not published in: the redirect to the address without it (see
    without_language); else None."""
    live = live_campaign(slug, with_signers=False)
    return without_language() if live is not None and live.is_public and campaign_language(live) is None \
        else None


def _refuse_forged(form) -> None:
    """A bad page token or a cross-site POST is a forgery, not a typo: 400."""
    if form.csrf_token.errors:
        raise CSRFError(form.csrf_token.errors[0])


def _thanks_page(slug: str, resent: bool = False):
    """The thank-you page, made ready before anything is written (see
    thanks_page); 404 if the campaign is not public."""
    page = thanks_page(slug, resent)
    if page is None:
        abort(404)
    return page


def _thanks_to(page, campaign_id: int, email: str):
    """The thank-you page for the person whose POST this answers: it names
    the address they typed, so no cache may keep it."""
    email = (email or "").strip()[:320]
    response = make_response(page(email, tokens.resend_token(campaign_id, email)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/c/<slug>/sign")
@csrf.exempt  # checked by the form itself: see shared_pages
@signing_limit
@_any_campaign
def sign(slug: str):
    """Store a pending signature; the same thank-you page whatever happened
    (it names only the address just typed), so the form never tells whether
    an address has signed before. The page answers the POST itself, rather
    than redirecting to a page anyone could load, because it is personal."""
    link = provenance.of_request(request, current_app.config["SITE_URL"])
    return take_signature(
        slug,
        sent_back=lambda campaign, form: render_campaign(campaign, sign_form=form, status=422,
                                                         link_codes=link.as_fields()),
        thanks=_thanks_page,
        provenance_of=lambda: link)


def take_signature(slug: str, sent_back, thanks, provenance_of):
    """A sign POST, from whichever page its form was on (the campaign page,
    its embed page): the same terms, form, checks and signature. The page
    decides how a form with errors comes back (``sent_back(campaign, form)``,
    422), its thank-you page (``thanks(slug)``, see _thanks_page) and what
    the signature records of where it came from (``provenance_of()``)."""
    terms = signing.signing_terms(slug)
    if terms is None or not terms.is_open:
        abort(404)
    language = answer_language(terms)
    shown = _terms_in(terms, language)
    form = sign_form_class(shown.questions, shown.asks, language)(postcode_required=terms.postcode_required)
    valid = form.validate()
    _refuse_forged(form)
    if terms.freeze_over(utcnow()):
        return _freeze_over(slug)
    if form.is_bot:
        return _thanks_to(thanks(slug), terms.id, form.email.data)
    if not valid:
        return sent_back(_public_campaign(slug), form)
    page = thanks(slug)
    signing.sign(
        terms,
        signing.Pledge(
            given_name=form.given_name.data,
            family_name=form.family_name.data,
            email=form.email.data,
            country=form.country.data,
            postal_code=form.postal_code.data,
            email_opt_in=form.email_opt_in.data,
            show_name=form.show_name.data,
            answers=form.answers(),
            **pledge_details(form),
            **_freeze_details(form, terms),
            provenance=provenance_of(),
            consent_texts=consents.texts_shown(shown, form),
            language=signing_language(terms),
        ),
        ip=request.remote_addr,
    )
    return _thanks_to(page, terms.id, form.email.data)


def _terms_in(terms: signing.SigningTerms, language: str) -> signing.SigningTerms:
    """The terms as the page in ``language`` words them: the pledge and the
    date question (the form's questions carry their own words, and the
    choices a signer sends stay the default language's). What is read of
    a translation is kept per edition (see translations.campaign_text)."""
    if language == terms.default_language:
        return terms
    live = live_campaign(terms.slug, with_signers=False)
    if live is None:
        return terms
    text = translations.campaign_text(live, language)
    asks = terms.asks
    if asks is not None and asks.date_question is not None:
        asks = dataclasses.replace(asks, date_question=text.date_question or asks.date_question)
    return dataclasses.replace(terms, pledge_text=text.pledge_text or terms.pledge_text, asks=asks)


def signing_language(campaign) -> str:
    """The language a signature or business pledge is made in: the page's
    (the first segment of its path), if the campaign is published in it;
    else the campaign's default. Its emails are written in it."""
    language = locales.page_language()
    return translations.language_of(campaign, language if language in locales.LANGUAGES else None)


def _freeze_details(form, terms: signing.SigningTerms) -> dict:
    """A freeze's signer: their zone (their browser's, else their country's)
    and whether they want its reminders."""
    if terms.kind != Kind.FREEZE:
        return {}
    return {"time_zone": time_zones.signer_zone(form.time_zone.data, form.country.data),
            "reminder_opt_in": form.reminder_opt_in.data}


def _freeze_over(slug: str):
    """A sign POST after the freeze ended everywhere: said plainly, with the
    way to its result; nothing is stored."""
    campaign = _public_campaign(slug)
    response = make_response(render_template("public/freeze_over.html", campaign=translations.in_language(
        campaign, answer_language(campaign)), page_languages=translations.page_languages(campaign)), 410)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/c/<slug>/thanks")
def thanks(slug: str):
    """After signing: check your email, and share the campaign meanwhile.
    The same for everyone: it names no address."""
    return _not_in_this_language(slug) or page_after_signing(slug, "public/thanks.html") or abort(404)


@bp.post("/c/<slug>/resend")
@csrf.exempt  # checked by the form itself: see shared_pages
@limiter.limit(lambda: current_app.config["RATELIMIT_RESEND"], key_func=_per_ip)
def resend(slug: str):
    """The thank-you page's "send the email again": the token (only in the
    answer to the signer's own POST) names the campaign and the address, so
    the button can mail nobody else; signing.resend and the mailbox rules
    decide whether an email goes. The same page whatever happened, as after
    signing. An expired button leads back to the form."""
    form = ResendForm()
    valid = form.validate()
    _refuse_forged(form)
    terms = signing.signing_terms(slug)
    if terms is None or not terms.is_open:
        abort(404)
    asked = tokens.resend_request(form.token.data, current_app.config["SIGNATURE_RESEND_FORM_HOURS"] * 3600) \
        if valid else None
    if asked is None or asked[0] != terms.id:
        return redirect(url_for(".campaign_page", slug=slug, _anchor="sign"), 303)
    campaign_id, email = asked
    page = _thanks_page(slug, resent=True)
    signing.resend(campaign_id, email)
    return _thanks_to(page, campaign_id, email)


@bp.post("/c/<slug>/business")
@csrf.exempt  # checked by the form itself: see shared_pages
@limiter.limit(lambda: current_app.config["RATELIMIT_BUSINESS"], key_func=_per_campaign_ip)
@_any_campaign
def join_as_business(slug: str):
    """A business pledges to pause its ads: its contact address is asked to
    confirm, and it shows once confirmed and approved. The same thank-you
    page whatever happened, so the form never tells whether a name has
    joined before."""
    campaign = _public_campaign(slug)
    if campaign.kind != Kind.BOYCOTT or not campaign.is_open:
        abort(404)
    form = BusinessForm(prefix="business")
    valid = form.validate()
    _refuse_forged(form)
    if form.is_bot:
        return redirect(url_for(".business_thanks", slug=slug), 303)
    if not valid:
        return render_campaign(campaign, business_form=form, status=422)
    pause_start, pause_end = form.pause_period()
    businesses.join_as_business(
        campaign,
        businesses.BusinessPledge(
            organisation=form.organisation.data,
            website=form.website.data,
            contact_email=form.contact_email.data,
            company_size=form.company_size.data,
            pause_start=pause_start,
            pause_end=pause_end,
            language=signing_language(campaign),
        ),
        ip=request.remote_addr,
    )
    return redirect(url_for(".business_thanks", slug=slug), 303)


@bp.get("/c/<slug>/business/thanks")
def business_thanks(slug: str):
    """After pledging: look for the confirmation link in the contact inbox."""
    return _not_in_this_language(slug) or page_after_signing(slug, "public/business_thanks.html") or abort(404)


@bp.route("/business/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself: see shared_pages
@limiter.limit(lambda: current_app.config["RATELIMIT_CONFIRM"], methods=["POST"])
def business_confirm(token: str):
    """The contact address of a business pledge confirms it. GET shows a
    button; only the POST confirms, because mail scanners follow links in
    emails. The form carries the confirm pages' own page token."""
    business_id = tokens.signature_id_for(tokens.CONFIRM_BUSINESS, token)
    if business_id is None:
        abort(404)
    form = PublicForm()
    if request.method == "POST":
        form.validate()
        _refuse_forged(form)
        page = businesses.confirm_pledge(business_id)
    else:
        page = businesses.confirmation_page(business_id)
    if page is None:
        abort(404)
    if page.refusal is not None:
        return render_template("public/business_confirm_refused.html", page=page, refusal=page.refusal.value,
                               days=current_app.config["CONFIRM_LINK_DAYS"]), 410
    if not page.confirmed:
        return render_template("public/business_confirm.html", page=page, form=form)
    return render_template("public/business_confirmed.html", page=page)


@bp.get("/media/<name>")
def media(name: str):
    """Campaign images, stored under generated names."""
    return send_from_directory(image_folder(), name, max_age=86400)


@bp.get("/c/<slug>/count.json")
def count_json(slug: str):
    """The live count, for the page's enhancement and for partners."""
    live = live_campaign(slug, with_signers=False)
    if live is None or not live.is_public:
        abort(404)
    return cache_publicly(jsonify(slug=live.slug, signatures=live.count, goal=live.displayed_goal,
                                  status=live.status), live.read_at)


@bp.get("/c/<slug>/calendar.ics")
def calendar(slug: str):
    """The campaign's window as a calendar event."""
    campaign = _public_campaign(slug)
    if campaign.window_start is None or campaign.window_end is None:
        abort(404)
    return Response(
        calendar_file(campaign),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{campaign.slug}.ics"'},
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself: see shared_pages
@limiter.limit(lambda: current_app.config["RATELIMIT_CONFIRM"], methods=["POST"])
def confirm(token: str):
    """GET shows what will be recorded and a button; only the POST confirms,
    because mail scanners follow links in emails. The person who confirms
    decides: the name, country and choices they send are what is stored."""
    signature_id = tokens.signature_id_for(tokens.CONFIRM, token)
    if signature_id is None:
        abort(404)
    form = confirm_form_class(ANY_ASKS)()
    page = signing.confirmation_page(signature_id) if request.method == "GET" else None
    if request.method == "POST":
        valid = form.validate()
        _refuse_forged(form)
        if valid:
            page = signing.confirm(signature_id, signing.Choices(
                given_name=form.given_name.data, family_name=form.family_name.data, country=form.country.data,
                email_opt_in=form.email_opt_in.data, show_name=form.show_name.data, **pledge_details(form),
                time_zone=form.time_zone.data or None, reminder_opt_in=form.reminder_opt_in.data))
        else:
            page = signing.confirmation_page(signature_id)
            if page is not None and page.status == SignatureStatus.PENDING and page.refusal is None:
                page, languages = _in_page_language(page)
                form = confirm_form_class(page.campaign.asks)()  # labelled as the campaign asks
                form.validate()
                return confirm_page(page.campaign, form, 422, languages)
    if page is None:
        abort(404)
    page, languages = _in_page_language(page)
    if page.refusal is not None:
        return render_template("public/confirm_refused.html", campaign=page.campaign, refusal=page.refusal.value,
                               days=current_app.config["CONFIRM_LINK_DAYS"], page_languages=languages or None), 410
    if page.status == SignatureStatus.PENDING:
        if request.method == "GET":
            form = confirm_form_class(page.campaign.asks)(data=vars(page.choices) if page.choices else None)
        return confirm_page(page.campaign, form, page_languages=languages)
    # The signer's own link, in the share buttons too: whoever signs
    # through them counts as theirs.
    own = referrals.share_link(signature_id) if page.status == SignatureStatus.CONFIRMED else None
    response = make_response(render_template(
        "public/confirmed.html",
        campaign=page.campaign,
        signature=page,
        count=page.count,
        share=referrals.personal_share(page.campaign, own.url) if own else share_links(page.campaign),
        own_link=own,
        impact_url=url_for(".impact", slug=page.campaign.slug, token=tokens.token_for(tokens.IMPACT, signature_id))
        if own else None,
        page_languages=languages or None,
    ))
    response.headers["Cache-Control"] = "no-store"
    return response


def _in_page_language(page: signing.ConfirmationPage) -> tuple[signing.ConfirmationPage, list[str]]:
    """The confirmation page with its campaign in the page's language (see
    summary_in_page_language), and the campaign's languages."""
    summary, languages = summary_in_page_language(page.campaign)
    return dataclasses.replace(page, campaign=summary), languages


@bp.get("/c/<slug>/impact/<token>")
def impact(slug: str, token: str):
    """A signer's "your impact" page, linked from later emails: their own
    share link and how many confirmed signatures it brought, never who.
    The signed token names the signature; personal, so never cached."""
    signature_id = tokens.signature_id_for(tokens.IMPACT, token)
    found = referrals.impact(slug, signature_id) if signature_id is not None else None
    if found is None:
        abort(404)
    # The campaign's words in the page's language, where it is published in it.
    text = translations.campaign_text(found, signing_language(found))
    found = dataclasses.replace(found, title=text.title, share_text=text.share_text or text.title)
    response = make_response(render_template("public/impact.html", impact=found, campaign=found,
                                             share=referrals.personal_share(found, found.link.url),
                                             page_languages=translations.page_languages(found)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """Shows the buttons and changes nothing: mail scanners follow links."""
    signature = subscriptions.signature_for_unsubscribe(token)
    if signature is None:
        abort(404)
    waiting = subscriptions.waiting_while_stopped(signature)
    if waiting is not None:
        waiting = [(title, url_for(".confirm", token=tokens.token_for(tokens.CONFIRM, signature_id)))
                   for title, signature_id in waiting]
    response = make_response(render_template("public/unsubscribe.html", campaign=_as_read(signature.campaign),
                                              waiting=waiting))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: mail clients POST here without cookies or a token
@limiter.limit(lambda: current_app.config["RATELIMIT_UNSUBSCRIBE"])
def unsubscribe_now(token: str):
    """One click: 200 with no redirect; repeating it is harmless. The token
    itself, signed by us and naming one signature, is the authorisation."""
    signature = subscriptions.signature_for_unsubscribe(token)
    if signature is None:
        abort(404)
    scope = "all" if request.form.get("scope") == "all" else "campaign"
    if scope == "all":
        subscriptions.stop_all_email(signature)
    else:
        subscriptions.unsubscribe(signature)
    return render_template("public/unsubscribed.html", campaign=_as_read(signature.campaign), scope=scope)


def _as_read(campaign: Campaign) -> translations.CampaignInLanguage:
    """The campaign in this page's language (the emailed link carries the
    signer's), or its own."""
    return translations.in_language(campaign, translations.language_of(campaign, locales.page_language()))
