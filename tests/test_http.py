"""Every response: security headers, a request id and a log line without secrets."""
import json
import logging

import pytest

from .builders import make_campaign


def test_health_check_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers


def test_health_check_says_503_when_the_database_is_away(database_url, mail_server, tmp_path):
    from .conftest import make_app
    app = make_app(database_url, mail_server, tmp_path,
                   SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                   SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}


@pytest.mark.parametrize("path", ["/", "/healthz", "/no-such-page", "/organiser/login"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers


def test_hsts_when_served_over_https(client):
    headers = client.get("/", base_url="https://campaigns.test").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_have_no_inline_script(ctx, client):
    campaign = make_campaign()
    for path in ("/", f"/c/{campaign.slug}", f"/c/{campaign.slug}/thanks", "/organiser/login"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " on" + "click=" not in html
        assert html.count("<script") == html.count('<script src="/static/')


def test_each_request_logs_one_line_with_its_id_and_no_token(ctx, client, caplog):
    campaign = make_campaign()
    caplog.set_level(logging.INFO, logger="campaign.request")
    logger = logging.getLogger("campaign.request")
    logger.addHandler(caplog.handler)
    try:
        page = client.get(f"/c/{campaign.slug}", headers={"X-Request-ID": "abc-123"})
        client.get("/confirm/MQ.secret-token-value")
    finally:
        logger.removeHandler(caplog.handler)
    assert page.headers["X-Request-ID"] == "abc-123"
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "campaign.request"]
    first, second = lines[-2], lines[-1]
    assert first["request_id"] == "abc-123" and first["method"] == "GET"
    assert first["path"] == f"/c/{campaign.slug}" and first["status"] == 200
    assert isinstance(first["duration_ms"], float)
    assert second["path"] == "/confirm/<token>" and "secret-token-value" not in json.dumps(lines)


def test_a_forged_request_id_is_replaced(client):
    response = client.get("/", headers={"X-Request-ID": "bad id <script>" + "x" * 80})
    assert len(response.headers["X-Request-ID"]) == 32 and "<" not in response.headers["X-Request-ID"]


def test_forwarded_for_is_ignored_unless_proxies_are_trusted(database_url, mail_server, tmp_path):
    from flask import request

    from .conftest import make_app
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.7")):
        app = make_app(database_url, mail_server, tmp_path, TRUSTED_PROXIES=proxies)

        @app.get("/whoami")
        def whoami():
            return request.remote_addr

        seen = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7"})
        assert seen.get_data(as_text=True) == expected
