"""Campaign pages and counts can be served from a shared cache (a CDN) for a
few seconds, without one visitor's token or session reaching another."""
from .builders import make_campaign, make_organiser, log_in


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


def test_a_spike_renders_a_page_once_a_second_per_process(ctx, client):
    """The micro-cache: within its second, a new signature is not yet shown;
    after it, it is. Counts are never more than 5 seconds behind."""
    import time

    from .builders import confirmed_signatures
    ctx.config["PUBLIC_MICROCACHE_SECONDS"] = 0.5
    campaign = make_campaign()
    first = client.get(f"/c/{campaign.slug}/count.json").get_json()
    confirmed_signatures(campaign, [("spike@example.com", "GB")])
    assert client.get(f"/c/{campaign.slug}/count.json").get_json() == first
    time.sleep(0.6)
    assert client.get(f"/c/{campaign.slug}/count.json").get_json()["signatures"] == first["signatures"] + 1
    config = ctx.config
    assert (config["PUBLIC_MICROCACHE_SECONDS"] + config["PUBLIC_CACHE_SECONDS"]
            + config["PUBLIC_STALE_SECONDS"]) <= 5
