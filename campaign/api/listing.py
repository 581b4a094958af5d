"""Pages of the API's lists: keyset pagination, cursors and OSDI filters.

A list is ordered by (modified_at, id) and a page starts after the last
row of the one before: the next page's link carries that position as an
opaque cursor (``after=``), so a page is one index range scan however deep
it is (no OFFSET), and a row inserted meanwhile, being the newest, lands
after the position instead of shifting the pages (nothing skipped, nothing
repeated). A row changed meanwhile moves to the end and is read again
there, which is what an incremental sync wants. OSDI's ``page`` is echoed
(``page=N+1`` in the next link) but the cursor decides where a page starts:
a ``page`` beyond the first without a cursor is refused (400) rather than
answered by counting rows.

Filters use OSDI's OData subset: ``modified_date gt '2026-12-01T00:00:00Z'``
(``gt``/``lt``, on ``modified_date`` or ``created_date``), joined by ``and``."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import current_app, request
from flask_babel import gettext as _

from .auth import ApiError

FILTER_FIELDS = {"modified_date": "modified_at", "created_date": "created_at"}
FILTER_OPERATORS = ("gt", "lt")
_CONDITION = re.compile(r"^\s*(\w+)\s+(\w+)\s+'([^']*)'\s*$")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_PLUS_AS_SPACE = re.compile(r"(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


@dataclass(frozen=True)
class Condition:
    column: str      # a column name: modified_at, created_at
    operator: str    # gt, lt
    value: dt.datetime


@dataclass
class PageRequest:
    """What the client asked of a list: how many, which page, after what, which filters."""
    per_page: int
    page: int
    after: tuple | None = None
    conditions: list[Condition] = field(default_factory=list)
    filter_text: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.conditions)


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 date or time (with Z or an offset; none means UTC) as naive UTC.
    An offset's + left unencoded in a query string arrives as a space: read as +."""
    value = dt.datetime.fromisoformat(_PLUS_AS_SPACE.sub(r"\1+\2", text.strip()))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def parse_filter(text: str) -> list[Condition]:
    """OSDI's ``filter=`` as conditions; ApiError 400 saying what is wrong."""
    conditions = []
    for part in _AND.split(text.strip()):
        match = _CONDITION.match(part)
        if match is None:
            raise ApiError(400, _("The filter “%(part)s” cannot be read: write it like "
                                  "modified_date gt '2026-12-01T00:00:00Z'.", part=part.strip()[:100]))
        name, operator, value = match.group(1), match.group(2).lower(), match.group(3)
        if name not in FILTER_FIELDS:
            raise ApiError(400, _("The filter cannot use “%(name)s”: filter on %(fields)s.",
                                  name=name[:40], fields=", ".join(FILTER_FIELDS)))
        if operator not in FILTER_OPERATORS:
            raise ApiError(400, _("The filter cannot use the operator “%(operator)s”: use %(operators)s.",
                                  operator=operator[:10], operators=" or ".join(FILTER_OPERATORS)))
        try:
            when = parse_timestamp(value)
        except ValueError:
            raise ApiError(400, _("“%(value)s” is not a date and time: write it like 2026-12-01T00:00:00Z.",
                                  value=value[:40])) from None
        conditions.append(Condition(FILTER_FIELDS[name], operator, when))
    return conditions


def _positive(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        raise ApiError(400, _("%(name)s must be a whole number of at least 1.", name=name))
    return int(raw)


def page_request(decode_cursor) -> PageRequest:
    """The list parameters of this request: per_page (at most API_MAX_PER_PAGE),
    page, the cursor (read by ``decode_cursor``) and the filter."""
    config = current_app.config
    per_page = min(_positive("per_page", config["API_PER_PAGE"]), config["API_MAX_PER_PAGE"])
    page = _positive("page", 1)
    cursor = request.args.get("after")
    after = None
    if cursor:
        after = decode_cursor(cursor)
        if after is None:
            raise ApiError(400, _("The after= cursor is not one this API gave: follow the _links.next of a page."))
    elif page > 1:
        raise ApiError(400, _("Pages are reached by following _links.next: page %(page)s needs its after= cursor.",
                              page=page))
    filter_text = request.args.get("filter")
    conditions = parse_filter(filter_text) if filter_text else []
    return PageRequest(per_page, page, after, conditions, filter_text or None)


# --- Cursors ---------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes | None:
    if len(text) > 1000:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def time_cursor(modified_at: dt.datetime, row_id: int) -> str:
    """The position after a row of a (modified_at, id) ordered list."""
    return _b64(f"{modified_at.isoformat(timespec='microseconds')}|{row_id}".encode())


def read_time_cursor(text: str) -> tuple[dt.datetime, int] | None:
    data = _unb64(text)
    if data is None:
        return None
    when, _bar, row_id = data.decode("utf-8", "replace").partition("|")
    try:
        return dt.datetime.fromisoformat(when), int(row_id)
    except ValueError:
        return None


# --- Links -----------------------------------------------------------------------

def next_link(wanted: PageRequest, cursor: str) -> str:
    """The URL of the page after this one: the same list, the next cursor."""
    args = {"per_page": wanted.per_page, "page": wanted.page + 1, "after": cursor}
    if wanted.filter_text:
        args["filter"] = wanted.filter_text
    return _here() + "?" + urlencode(args)


def self_link() -> str:
    query = request.query_string.decode("latin-1")
    return _here() + (f"?{query}" if query else "")


def _here() -> str:
    """This request's address under SITE_URL, as every link the API gives (see osdi.api_url)."""
    return current_app.config["SITE_URL"].rstrip("/") + request.path
