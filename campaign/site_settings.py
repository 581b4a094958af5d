"""Settings of the whole site that admins change on screen (not in the
environment): each has a name, a default, and is stored as text in
``site_setting`` once changed."""
from __future__ import annotations

from .extensions import db
from .models import SiteSetting, utcnow

# Every setting, with its value until an admin changes it.
DEFAULTS = {
    # Every organiser must turn on two-factor authentication before using the site.
    "two_factor_required": "no",
}


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
