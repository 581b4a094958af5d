"""Settings of the whole site that admins change on screen (not in the
environment): each has a name and a default, and is stored as text in
``site_setting`` once changed.

Every page shows some of them (the site's name, its footer), so they are
read once per SITE_SETTINGS_SECONDS per process, all together, with a
``version`` that changes with any of them: pages built once and kept (see
campaign_page) carry it in their keys, so a change shows everywhere within
those seconds, on every host."""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import SiteSetting, utcnow

# Every setting, with its value until an admin changes it ("" for the text
# ones: the site's configured name, or nothing shown).
DEFAULTS = {
    # Every organiser must turn on two-factor authentication before using the site.
    "two_factor_required": "no",
    "site_name": "",
    "logo_text": "",
    "favicon_text": "",
    "accent_colour": "#1d4f91",
    "organiser_name": "",
    "contact_email": "",
    "privacy_url": "",
    # The site's own privacy notice in Markdown; "" for the default notice,
    # written from what the site does (templates/public/privacy.html).
    "privacy_notice": "",
}


@dataclass(frozen=True)
class Site:
    """What every page shows of the site's settings."""
    name: str
    logo_text: str
    favicon_text: str
    accent_colour: str
    organiser_name: str
    contact_email: str
    privacy_url: str  # "" for the site's own privacy notice page
    privacy_notice: str  # Markdown; "" for the default notice
    version: str


_lock = threading.Lock()


def site() -> Site:
    """The settings every page shows, kept SITE_SETTINGS_SECONDS in this process."""
    seconds = current_app.config["SITE_SETTINGS_SECONDS"]
    kept = current_app.extensions.get("site_settings")
    now = time.monotonic()
    if kept is not None and seconds > 0 and now - kept[0] < seconds:
        return kept[1]
    try:
        values = _values()
    except SQLAlchemyError:
        # The database is down: the pages (and the error page saying so)
        # still show the site as last read, or as its defaults.
        if kept is not None:
            return kept[1]
        values = dict(DEFAULTS)
    name = values["site_name"] or current_app.config["SITE_NAME"]
    logo = values["logo_text"] or name
    fresh = Site(name=name, logo_text=logo, favicon_text=values["favicon_text"] or logo[:1].upper(),
                 accent_colour=values["accent_colour"], organiser_name=values["organiser_name"],
                 contact_email=values["contact_email"], privacy_url=values["privacy_url"],
                 privacy_notice=values["privacy_notice"],
                 version=hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:12])
    with _lock:
        current_app.extensions["site_settings"] = (now, fresh)
    return fresh


def _values() -> dict[str, str]:
    # On a connection of its own, returned at once: a public page's request
    # holds none while it renders (see page_reads).
    with db.engine.connect() as own:
        stored = dict(own.execute(select(SiteSetting.name, SiteSetting.value)).all())
    return {name: stored.get(name, default) for name, default in DEFAULTS.items()}


def value(name: str) -> str:
    row = db.session.get(SiteSetting, name)
    return row.value if row is not None else DEFAULTS[name]


def is_on(name: str) -> bool:
    return value(name) == "yes"


def change(name: str, new_value: str) -> None:
    """Stores ``new_value``; the caller commits (with its audit event)."""
    if name not in DEFAULTS:
        raise KeyError(name)
    row = db.session.get(SiteSetting, name)
    if row is None:
        db.session.add(SiteSetting(name=name, value=new_value, changed_at=utcnow()))
    else:
        row.value, row.changed_at = new_value, utcnow()
    current_app.extensions.pop("site_settings", None)  # this process sees its own change at once
