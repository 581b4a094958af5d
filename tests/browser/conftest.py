"""Browser fixtures: the site served by werkzeug on a free local port, and
Chromium driven through Playwright's sync API.

The ``app`` fixture is overridden here by the served app, so the shared
fixtures that build on it (``deliver``, ``runner``, ``ctx``) act on the very
site the browser is talking to.

Without Chromium or Playwright the browser tests skip, unless
REQUIRE_BROWSER=1 (as in CI), where they fail instead.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from flask import Flask

from ..conftest import fresh_app, served
from ..smtp import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Auto-waiting gives up after this long: a broken page fails fast.
TIMEOUT_MS = 10_000


def _browser_unavailable(reason: str):
    """Skip, or fail when the run has been told browsers must be there."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (set REQUIRE_BROWSER=1 to make this an error)")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None:
        _browser_unavailable("Playwright is not installed (pip install -r requirements-dev.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        _browser_unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium, failure = None, None
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
        except PlaywrightError as exc:
            failure = str(exc).strip().splitlines()[0]
        if chromium is None:
            _browser_unavailable(f"Chromium at {CHROMIUM} did not start: {failure}")
        yield chromium
        chromium.close()


@dataclass
class LiveSite:
    app: Flask
    url: str


@pytest.fixture
def site(database_url, mail_server, smtp, tmp_path):
    """The site on a real port, with emailed links pointing at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fresh_app(database_url, mail_server, tmp_path, SITE_URL=url) as app, served(app, port):
        yield LiveSite(app=app, url=url)


@pytest.fixture
def app(site):
    """The served app (overrides tests/conftest.py's unserved one)."""
    return site.app


@pytest.fixture
def new_page(browser, site):
    """Open a page in a fresh browser context (own cookies, own settings),
    e.g. ``new_page(java_script_enabled=False)``; relative URLs go to the site."""
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(base_url=site.url, **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A page in a fresh context with the browser's default settings."""
    return new_page()
