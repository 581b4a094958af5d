"""Builders for test data: the least a test needs to say, with sane defaults."""
from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

from sqlalchemy import JSON, String, Text, select

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


class _FormReader(HTMLParser):
    """What a browser would send for the first form of a page: text and
    hidden inputs, text areas, ticked boxes, chosen options."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._forms = 0
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._forms += 1
        if self._forms != 1:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            elif attrs.get("type") not in ("submit", "button"):
                self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = attrs.get("value", "")
                self.values.setdefault(self._select, self._first_option)
            if "selected" in attrs:
                self.values[self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea:
            # A browser drops the one line break that may follow <textarea>.
            text = self.values[self._textarea] + data
            self.values[self._textarea] = text[1:] if text.startswith("\n") and not self.values[self._textarea] \
                else text

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_values(html: str) -> dict[str, str]:
    """The first form of ``html`` as a browser would submit it unchanged."""
    reader = _FormReader()
    reader.feed(html)
    return reader.values


def confirm(client, path: str, **changes):
    """Open the confirmation page and press its button, with ``changes``
    made to the form first (a box: True ticks, False unticks)."""
    page = client.get(path)
    data = form_values(page.get_data(as_text=True))
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "y" if value is True else value
    return client.post(path, data=data)


PASSWORD = "correct horse battery staple"


def make_organiser(email="org@example.com", is_admin=False, campaigns=()):
    from campaign import organisers
    organiser = organisers.create_organiser(email, PASSWORD, is_admin=is_admin)
    for campaign in campaigns:
        organisers.add_member(organiser, campaign)
    return organiser


def log_in(client, email="org@example.com", password=PASSWORD):
    page = client.get("/organiser/login")
    return client.post("/organiser/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))})


# A fixed TOTP secret for organisers the tests give two-factor authentication.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def app_code(secret: str = TOTP_SECRET, seconds_ahead: int = 0) -> str:
    """The code an authenticator app holding ``secret`` shows now (or soon)."""
    import time

    import pyotp
    return pyotp.TOTP(secret).at(time.time() + seconds_ahead)


def hold_the_login_clock(monkeypatch) -> None:
    """Stops the login brake's clock: a burst of attempts that should all
    meet its first, one-second wait still does on a slow machine."""
    from campaign import signins
    now = signins.utcnow()
    monkeypatch.setattr(signins, "utcnow", lambda: now)


def turn_on_two_factor(email: str, secret: str = TOTP_SECRET) -> list[str]:
    """Two-factor on for ``email`` as if enrolled with ``secret`` (no code
    used yet); returns its ten recovery codes. Inside an app context."""
    from campaign import two_factor
    from campaign.models import Organiser
    organiser = db.session.execute(select(Organiser).where(Organiser.email == email)).scalar_one()
    organiser.totp_secret = secret
    organiser.totp_enabled_at = organiser.totp_last_step = None
    codes = two_factor._new_recovery_codes(organiser)
    organiser.totp_enabled_at = organiser.created_at
    db.session.commit()
    return codes


def log_in_with_code(client, email="org@example.com", code=None, password=PASSWORD):
    """Logs in an organiser with two-factor on: the password, then ``code``
    (by default the app's current one). Returns the code step's response."""
    first = log_in(client, email, password)
    assert first.status_code == 303 and first.headers["Location"].endswith("/organiser/login/code"), first.status_code
    page = client.get("/organiser/login/code")
    return client.post("/organiser/login/code", data={
        "code": app_code() if code is None else code, "csrf_token": csrf_token(page.get_data(as_text=True))})


def confirm_signature(signature) -> bool:
    """Confirm a loaded signature through the service, as the confirm POST
    does, and refresh it; True if this call confirmed it."""
    from campaign import signing
    signature_id = signature.id
    # As in a request, the session holds no connection while the service
    # confirms on a connection of its own.
    choices = signing.Choices(signature.given_name, signature.family_name, signature.country,
                              signature.email_opt_in, signature.show_name)
    db.session.commit()
    page = signing.confirm(signature_id, choices)
    db.session.refresh(signature)
    return page is not None and page.confirmed_now


def fan_out_all() -> None:
    """Create every due update's deliveries, as the worker does a batch at a time."""
    from campaign import broadcasts
    while broadcasts.fan_out_batch():
        pass


def confirmed_signatures(campaign, specs):
    """Confirmed signatures from (email, country[, opt_in]) specs, via the services."""
    from campaign import identity, signing
    from campaign.models import Signature
    made = []
    for spec in specs:
        email, country, opt_in = (*spec, False)[:3]
        signing.sign(campaign, signing.Pledge("Sam", "Signer", email, country, None, opt_in, False))
        signature = db.session.execute(
            db.select(Signature).where(Signature.campaign_id == campaign.id,
                                       Signature.email_normalised == identity.normalise_email(email))
        ).scalar_one()
        confirm_signature(signature)
        made.append(signature)
    return made


def at_once(app, work, workers: int = 4) -> list:
    """Run ``work()`` in ``workers`` threads released together, each in an
    application context of ``app`` as a worker process would be; their
    results, in no particular order."""
    start = threading.Barrier(workers, timeout=60)

    def one(_):
        with app.app_context():
            start.wait()
            try:
                return work()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(workers)))


def personal_traces(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text cell of every table that holds
    one of ``needles`` (case and spaces aside): what a test of erasing or
    anonymising expects to find nothing of."""
    db.session.expire_all()
    wanted = [re.sub(r"\s", "", needle).lower() for needle in needles]
    found = []
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, String | Text | JSON)]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                folded = re.sub(r"\s", "", str(value)).lower()
                if value is not None and any(needle in folded for needle in wanted):
                    found.append((table.name, column.name, str(value)[:80]))
    return found
