"""Rate limits: one address cannot flood a campaign with signatures."""


from .builders import csrf_token, make_campaign, valid_pledge


def test_signing_is_limited_per_address_per_campaign(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        make_campaign(slug="one")
        make_campaign(slug="two")
    # Each campaign's page has its own form token.
    tokens = {slug: csrf_token(client.get(f"/c/{slug}").get_data(as_text=True)) for slug in ("one", "two")}
    token = tokens["one"]

    def post(slug, i):
        return client.post(f"/c/{slug}/sign", data={**valid_pledge(email=f"p{i}@example.com"),
                                                    "csrf_token": tokens[slug]})

    assert [post("one", i).status_code for i in range(3)] == [200, 200, 200]
    refused = post("one", 4)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    # Another campaign has its own allowance; another client address too.
    assert post("two", 5).status_code == 200
    other = client.post("/c/one/sign", data={**valid_pledge(email="x@example.com"), "csrf_token": token},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
