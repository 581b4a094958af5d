"""Absolute links for emails and share buttons, built from SITE_URL so they
are right whether or not a request is being served (the worker, the CLI)."""
from flask import current_app


def absolute_url(endpoint: str, **values) -> str:
    """The public URL of ``endpoint``, rooted at SITE_URL."""
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values)
    return current_app.config["SITE_URL"].rstrip("/") + path
