"""The three demo campaigns, written for this project. Modelled on real
protests; no real person is named as a participant."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from . import site_settings
from .extensions import db
from .models import Campaign, CampaignStatus, Kind, WindowMode
from .windows import local_span

BOYCOTT_STORY = """\
For the month of July we are asking every advertiser to **stop paying for
ads** on the network until it acts on hate and disinformation.

Advertising is how the platform makes its money. When brands pause their
spending together, the people who run it listen in a way they never do when
users complain one at a time.

### How you can help
1. Sign the pledge on this page to stand with the boycott as a customer.
2. If you run a business, join as a business at the foot of this page and
   pause your paid ads on the network for the whole of July.
3. Tell the brands you buy from that you noticed.

A business appears in the list on this page once its contact address has
confirmed the pledge and we have checked it. The scorecard above shows how
the company has answered each demand so far.
"""

PLEDGE_STORY = """\
Every day we hand a platform our attention, our data and our patience, and
every day it gives us more outrage and less of the people we care about.

This is a pledge to **log off, and to stay off until the platform meets our
demands**: choose the day you start, delete the app from your phone, download
your archive, and stop feeding the feed. One account leaving is a rounding
error. Thousands leaving together, each with a reason, are a headline the
company cannot ignore.

If you tell us why you are leaving and agree to show it, your reason may
appear on this page once we have read it.
"""

FREEZE_STORY = """\
For twenty-four hours, we all go quiet. No posts, no replies, no stories.

A day of silence from thousands of accounts shows the platform what it is
without us. It is the simplest protest there is, and it works best when we
do it together: from nine in the morning on every clock, wherever you are.

### The steps
1. At 9:00 your time, post the statement on this page once, with the link
   to this page.
2. Then go quiet: no posts, likes or replies for 24 hours.
3. If you asked for reminders, we email you the day before and when it
   starts, and afterwards ask whether you took part: this page then shows
   how many did.
"""

# What every page of the demo site shows (see site_settings).
DEMO_SITE = {
    "site_name": "Fair Feeds",
    "logo_text": "Fair Feeds",
    "favicon_text": "FF",
    "organiser_name": "Fair Feeds, a demonstration coalition",
    "contact_email": "hello@fairfeeds.example",
}


def _at(zone: str, day: dt.date, hour: int) -> dt.datetime:
    """A local wall-clock time in ``zone`` as naive UTC."""
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def demo_campaigns(today: dt.date) -> list[dict]:
    july = dt.date(today.year + (today.month > 7), 7, 1)
    local_start = dt.datetime.combine(today + dt.timedelta(days=14), dt.time(9))
    first_start, last_end = local_span(local_start, local_start + dt.timedelta(days=1))
    return [
        {
            "slug": "stop-hate-for-profit",
            "kind": Kind.BOYCOTT,
            "title": "Stop Hate for Profit: pause your ads for July",
            "summary": "Brands pause their paid ads on the network for the month of July, until it acts on hate and disinformation; customers sign to back them.",
            "story": BOYCOTT_STORY,
            "pledge_text": "I support the advertiser boycott. I will tell the brands I buy from that I want them to pause their ads on the network for the month of July.",
            "demands": "\n".join([
                "Remove groups that organise hate, harassment and violence.",
                "Label and stop promoting disinformation, including in paid ads.",
                "Give people targeted by hate a way to talk to a human being.",
                "Submit to a regular independent audit, and publish it.",
            ]),
            "goal": 10000,
            "window_start": _at("America/Los_Angeles", july, 0),
            "window_end": _at("America/Los_Angeles", july + dt.timedelta(days=31), 0),
            "time_zone": "America/Los_Angeles",
            "share_text": "Brands are pausing their ads for a month until the network acts on hate. I've signed. Join in:",
            "next_action": "The pause is over. Keep asking brands whether they went back, and sign up for updates on what comes next.",
        },
        {
            "slug": "walkaway",
            "kind": Kind.PLEDGE,
            "title": "Log off until they listen",
            "summary": "Choose the day you log off, and stay off until the platform meets three demands.",
            "story": PLEDGE_STORY,
            "pledge_text": "I pledge to log off the platform from the day I choose, and to stay off until it meets these demands: I will delete the app, download my data and stop posting.",
            "demands": "\n".join([
                "Let people take their data and their followers with them.",
                "Stop the endless feed designed to keep us scrolling.",
                "Stop selling what we do to advertisers we never chose.",
            ]),
            "goal": 1000,
            "asks_date": True,
            "date_question": "I will log off from",
            "asks_reason": True,
            "share_text": "I've pledged to log off until the platform listens. If enough of us leave together, it has to:",
        },
        {
            "slug": "account-freeze",
            "kind": Kind.FREEZE,
            "title": "24-hour account freeze",
            "summary": "One day, no posts: from 9:00 in the morning, wherever you are, we all go quiet for 24 hours.",
            "story": FREEZE_STORY,
            "pledge_text": "I'll join the freeze: I will post the statement, then not post, like or reply for 24 hours from 9:00 my time.",
            "demands": "\n".join([
                "Enforce the platform's own rules on hate speech, consistently.",
                "Explain every account suspension, and offer a real appeal.",
            ]),
            "goal": 5000,
            "window_mode": WindowMode.LOCAL,
            "local_start": local_start,
            "local_end": local_start + dt.timedelta(days=1),
            "window_start": first_start,
            "window_end": last_end,
            "time_zone": "Europe/London",
            "share_text": "For 24 hours, we go quiet together. I'm freezing my account. Join the freeze:",
            "statement": "For the next 24 hours I'm freezing my account: no posts, likes or replies. I'm asking the platform to enforce its own rules on hate speech, and to explain every suspension with a real appeal. Join me:",
            "check_in_email": True,
            "next_action": "The freeze is over, but the demands stand. Sign up for updates to hear about the next day of action.",
        },
    ]


def seed_demo_campaigns(today: dt.date | None = None) -> list[Campaign]:
    """Create whichever demo campaigns do not exist yet; returns those created."""
    today = today or dt.datetime.now(dt.UTC).date()
    existing = set(db.session.execute(select(Campaign.slug)).scalars())
    created = [
        Campaign(status=CampaignStatus.LIVE, **fields)
        for fields in demo_campaigns(today)
        if fields["slug"] not in existing
    ]
    db.session.add_all(created)
    for name, value in DEMO_SITE.items():
        if not site_settings.value(name):  # an admin's own choice stays
            site_settings.change(name, value)
    db.session.commit()
    return created
