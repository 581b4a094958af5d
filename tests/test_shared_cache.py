"""Campaign pages and counts can be served from a shared cache (a CDN) for a
few seconds, without one visitor's token or session reaching another."""
import pytest

from campaign.config import Defaults

from .builders import log_in, make_campaign, make_organiser


def test_a_campaign_page_is_the_same_for_everyone_and_sets_no_cookie(ctx):
    campaign = make_campaign(kind="boycott")
    first, second = ctx.test_client(), ctx.test_client()
    a, b = first.get(f"/c/{campaign.slug}"), second.get(f"/c/{campaign.slug}")
    assert a.status_code == b.status_code == 200
    assert a.get_data() == b.get_data(), "nothing in the page is personal"
    assert "Set-Cookie" not in a.headers
    # Vary: Cookie (set by Flask whenever a request looks at the session) only
    # keeps visitors who carry a cookie, such as organisers, on a variant of
    # their own; the first-time visitors of a spike share one.
    cache = a.headers["Cache-Control"]
    assert "public" in cache and "max-age=0" in cache
    assert "s-maxage=2" in cache and "stale-while-revalidate=2" in cache, "never more than 5 s behind"
    assert a.headers["ETag"]


def test_a_cache_revalidates_with_the_etag(ctx, client):
    campaign = make_campaign()
    first = client.get(f"/c/{campaign.slug}")
    again = client.get(f"/c/{campaign.slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_count_json_is_cacheable_and_revalidates(ctx, client):
    campaign = make_campaign()
    first = client.get(f"/c/{campaign.slug}/count.json")
    assert "public" in first.headers["Cache-Control"] and "Set-Cookie" not in first.headers
    again = client.get(f"/c/{campaign.slug}/count.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_logged_in_organiser_still_gets_the_public_page_without_personal_bits(ctx, client):
    campaign = make_campaign()
    make_organiser("org@example.com", campaigns=[campaign])
    log_in(client, "org@example.com")
    mine = client.get(f"/c/{campaign.slug}").get_data()
    anonymous = ctx.test_client().get(f"/c/{campaign.slug}").get_data()
    assert mine == anonymous


def test_pages_with_personal_data_are_never_cached(ctx, client):
    campaign = make_campaign()
    make_organiser("org@example.com", campaigns=[campaign])
    log_in(client, "org@example.com")
    for path in ("/organiser/", f"/organiser/c/{campaign.slug}/", "/organiser/login"):
        assert client.get(path).headers["Cache-Control"] == "private, no-store"


def test_a_spike_renders_a_page_once_a_second_per_process(ctx, client, monkeypatch):
    """The micro-cache: within its second, a new signature is not yet shown;
    after it, it is. Counts are never more than 5 seconds behind."""
    import time
    from types import SimpleNamespace

    from campaign import http_cache

    from .builders import confirmed_signatures
    # The cache's clock, moved by hand: however slow the machine, the second
    # request comes within the cached copy's half second and the third after.
    now = [time.monotonic()]
    monkeypatch.setattr(http_cache, "time", SimpleNamespace(monotonic=lambda: now[0], perf_counter=time.perf_counter))
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 0.5
    campaign = make_campaign()
    first = client.get(f"/c/{campaign.slug}/count.json").get_json()
    confirmed_signatures(campaign, [("spike@example.com", "GB")])
    assert client.get(f"/c/{campaign.slug}/count.json").get_json() == first
    now[0] += 0.6
    assert client.get(f"/c/{campaign.slug}/count.json").get_json()["signatures"] == first["signatures"] + 1
    config = ctx.config
    defaults = Defaults
    assert (max(defaults.PUBLIC_MICROCACHE_SECONDS, defaults.PUBLIC_LIVE_SECONDS) + config["PUBLIC_CACHE_SECONDS"]
            + config["PUBLIC_STALE_SECONDS"]) <= 5


def _spike_app(ctx):
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 30  # long enough that only the cache can answer
    return ctx


def test_in_a_spike_cookieless_visitors_share_one_copy_with_every_header(ctx, caplog):
    """Served from the process's copy: same bytes, the security headers, a
    fresh request id each, a log line each, and 304 for a matching ETag."""
    import json
    import logging

    from .builders import confirmed_signatures
    _spike_app(ctx)
    campaign = make_campaign()
    path = f"/c/{campaign.slug}/count.json"
    first = ctx.test_client().get(path, headers={"X-Request-ID": "first"})
    confirmed_signatures(campaign, [("spike@example.com", "GB")])
    caplog.set_level(logging.INFO, logger="campaign.request")
    logger = logging.getLogger("campaign.request")
    logger.addHandler(caplog.handler)
    try:
        second = ctx.test_client().get(path, headers={"X-Request-ID": "second"})
        revalidated = ctx.test_client().get(path, headers={"If-None-Match": first.headers["ETag"]})
        head = ctx.test_client().head(path)
    finally:
        logger.removeHandler(caplog.handler)
    assert second.get_data() == first.get_data(), "the copy, not a new render"
    assert second.headers["X-Request-ID"] == "second" and first.headers["X-Request-ID"] == "first"
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "ETag"):
        assert second.headers[header] == first.headers[header]
    assert "Set-Cookie" not in second.headers
    assert revalidated.status_code == 304 and revalidated.get_data() == b""
    assert revalidated.headers["ETag"] == first.headers["ETag"]
    assert head.status_code == 200 and head.get_data() == b""
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "campaign.request"]
    assert [(line["path"], line["status"]) for line in lines] == [(path, 200), (path, 304), (path, 200)]


@pytest.mark.parametrize("cookie", ["x=1", "session=forged.by.someone", "organiser"])
def test_a_cookie_does_not_take_a_request_past_the_shared_copy(ctx, client, cookie):
    """Public pages read no cookie, so a stray cookie, one an attacker adds
    to every request, or a logged-in organiser's session all get the shared
    copy instead of a render each."""
    from .builders import confirmed_signatures
    _spike_app(ctx)
    campaign = make_campaign()
    path = f"/c/{campaign.slug}/count.json"
    page = ctx.test_client().get(f"/c/{campaign.slug}")
    assert ctx.test_client().get(path).get_json()["signatures"] == 0
    confirmed_signatures(campaign, [("spike@example.com", "GB")])
    if cookie == "organiser":
        make_organiser("org@example.com", campaigns=[campaign])
        log_in(client, "org@example.com")
        headers = {}
    else:
        headers = {"Cookie": cookie}
    counted = client.get(path, headers=headers)
    assert counted.get_json()["signatures"] == 0, "the shared copy, not a new render"
    again = client.get(f"/c/{campaign.slug}", headers=headers)
    assert again.get_data() == page.get_data()
    for response in (counted, again, page):
        assert "Cookie" not in response.headers.get("Vary", ""), "nothing here depends on a cookie"
        assert "Set-Cookie" not in response.headers


def test_only_public_answers_are_kept(ctx):
    """A 404 is not kept (the campaign can go live a moment later), nor
    anything not marked public; a shared link's query string gets the copy."""
    _spike_app(ctx)
    visitor = ctx.test_client()
    assert visitor.get("/c/soon").status_code == 404
    make_campaign(slug="soon")
    page = visitor.get("/c/soon")
    assert page.status_code == 200
    shared_link = visitor.get("/c/soon?utm_source=x&fbclid=<b>")
    assert shared_link.get_data() == page.get_data() and b"fbclid" not in shared_link.get_data()
    assert visitor.get("/healthz").headers.get("X-Request-ID") != visitor.get("/healthz").headers.get("X-Request-ID")
    assert "public" not in visitor.get("/organiser/login").headers.get("Cache-Control", "")


def test_a_campaign_taken_down_leaves_the_shared_copy_at_its_next_refresh(ctx):
    """Once the copy is due, the one request that refreshes it sees the 404,
    and the old copy is dropped, not served on."""
    import time

    from campaign.extensions import db
    from campaign.models import CampaignStatus
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 0.3
    campaign = make_campaign(slug="going")
    visitor = ctx.test_client()
    assert visitor.get("/c/going").status_code == 200
    campaign.status = CampaignStatus.DRAFT
    db.session.commit()
    time.sleep(0.4)
    assert [visitor.get("/c/going").status_code for _ in range(3)] == [404, 404, 404]


def test_in_a_spike_each_process_reads_a_campaign_once_a_second(ctx):
    """Without the shared copy (a visitor it does not serve), pages and
    count.json reuse what the process read for PUBLIC_LIVE_SECONDS: one
    statement, however many requests, then a fresh read."""
    import time

    from sqlalchemy import event

    from campaign.extensions import db

    from .builders import confirmed_signatures
    # Long enough that a slow moment of a busy machine cannot end the window
    # before the requests below are done.
    ctx.config["PUBLIC_LIVE_SECONDS"] = 2.0
    campaign = make_campaign()
    visitor = ctx.test_client()
    statements = []
    listener = lambda *args: statements.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = visitor.get(f"/c/{campaign.slug}/count.json").get_json()
        for _ in range(5):
            visitor.get(f"/c/{campaign.slug}")
            visitor.get(f"/c/{campaign.slug}/count.json")
        reads = [s for s in statements if "signature_tally" in s]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(reads) == 2, "one read for count.json, one (with the signers) for the page"
    confirmed_signatures(campaign, [("spike@example.com", "GB")])
    assert visitor.get(f"/c/{campaign.slug}/count.json").get_json() == first
    time.sleep(2.1)
    assert visitor.get(f"/c/{campaign.slug}/count.json").get_json()["signatures"] == first["signatures"] + 1


def test_the_shared_copy_is_never_older_than_its_seconds_counting_from_the_read(ctx):
    """A copy made from what the process read a while ago is kept only for
    what remains of its seconds: the count it shows is never older than
    PUBLIC_MICROCACHE_SECONDS (here with PUBLIC_LIVE_SECONDS the same)."""
    import time

    from .builders import confirmed_signatures
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = ctx.config["PUBLIC_LIVE_SECONDS"] = 1.0
    campaign = make_campaign()
    visitor = ctx.test_client()
    began = time.monotonic()
    visitor.get(f"/c/{campaign.slug}")  # reads the campaign (count 0) at 0 s
    time.sleep(0.6)
    # count.json at 0.6 s: made from the read at 0 s, so its copy may live
    # until 1 s, not 1.6 s.
    assert visitor.get(f"/c/{campaign.slug}/count.json").get_json()["signatures"] == 0
    confirmed_signatures(campaign, [("late@example.com", "GB")])
    time.sleep(max(0.0, 1.25 - (time.monotonic() - began)))
    assert visitor.get(f"/c/{campaign.slug}/count.json").get_json()["signatures"] == 1
