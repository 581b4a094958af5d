"""Builders for test data: the least a test needs to say, with sane defaults."""
from __future__ import annotations

import datetime as dt
import itertools
import re

from campaign.extensions import db
from campaign.models import Campaign, CampaignStatus, Kind

_numbers = itertools.count(1)
_CSRF = re.compile(r'name="(?:[\w-]*-)?csrf_token" type="hidden" value="([^"]+)"')


def make_campaign(**fields) -> Campaign:
    n = next(_numbers)
    values = {
        "slug": f"campaign-{n}",
        "kind": Kind.PLEDGE,
        "status": CampaignStatus.LIVE,
        "title": f"Campaign {n}",
        "summary": "A campaign for the tests.",
        "story": "Why it matters.",
        "pledge_text": "I pledge to take part.",
        "demands": "First demand\nSecond demand",
        "goal": 100,
    }
    values.update(fields)
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def hours_from_now(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=hours)


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def valid_pledge(**fields) -> dict:
    values = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "country": "GB",
        "postal_code": "",
    }
    values.update(fields)
    return values


def sign(client, slug: str, **fields):
    """Sign as a person would: open the page, fill the form, submit it."""
    page = client.get(f"/c/{slug}")
    data = valid_pledge(**fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    return client.post(f"/c/{slug}/sign", data=data)


def confirm_link(message_text: str) -> str:
    """The /confirm/<token> path from a confirmation email."""
    match = re.search(r"https?://[^/\s]+(/confirm/[\w.-]+)", message_text)
    assert match, "no confirmation link in the email"
    return match.group(1)


def confirm(client, path: str):
    page = client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
