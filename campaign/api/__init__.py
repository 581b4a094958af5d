"""The API (/api/v1): OSDI over HAL+JSON, authenticated by API key (see api_keys).

A partner's server, not a browser, is the client: it sends its key in a
header (``OSDI-API-Token``, or ``Authorization: Bearer``) with every
request. The API never reads a cookie nor sets one, so a logged-in
organiser's browser cannot be made to use it from another site, which is
why this blueprint, and only this one, is exempt from the CSRF check.

- ``auth``: the request's key, what it may do, rate limits, errors as JSON.
- ``listing``: keyset pages, cursors and OSDI filters.
- ``views``: the resources (petitions, signatures, people, the entry point).
- ``record``: the record signature helper (the web form's rules, by API).
- ``openapi`` and ``docs``: the OpenAPI document and the page made from it.
"""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

from . import auth, docs, record, views  # noqa: E402,F401  (their routes join the blueprint)
