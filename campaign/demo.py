"""The three demo campaigns, written for this project. Modelled on real
protests; no real person is named as a participant."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .extensions import db
from .models import Campaign, CampaignStatus, Kind

BOYCOTT_STORY = """\
For one month, we are asking every advertiser to **stop paying for ads** on the
network until it takes hate and disinformation seriously.

Advertising is how the platform makes its money. When brands pause their
spending together, the people who run it listen in a way they never do when
users complain one at a time.

### How it works
1. Sign the pledge below to stand with the boycott as a customer.
2. If you run a business, join as a business and pause your paid ads for the
   whole month.
3. Tell the brands you buy from that you noticed.

Participating businesses are listed on this page once we have checked them.
"""

PLEDGE_STORY = """\
Every day we hand a platform our attention, our data and our patience, and
every day it gives us more outrage and less of the people we care about.

This is a pledge to **log off and walk away**: delete the app from your phone,
download your archive, and stop feeding the feed. Alone, one account leaving
is a rounding error. Together, at a set count, it is a headline the company
cannot ignore.

### Reasons people give
- "I want my evenings back."
- "My feed is adverts and arguments, not friends."
- "I don't want my data sold to whoever pays."
"""

FREEZE_STORY = """\
For twenty-four hours, we all go quiet. No posts, no replies, no stories.

A day of silence from millions of accounts shows the platform what it is
without us: empty. It is the simplest protest there is, and it only works if
we do it **together, at the same moment**.

### The steps
1. Before the freeze starts, post the statement below once, with the campaign link.
2. When the freeze starts, stop posting, liking and replying for 24 hours.
3. Afterwards, come back here to see how many joined.
"""


def _at(zone: str, day: dt.date, hour: int) -> dt.datetime:
    """A local wall-clock time in ``zone`` as naive UTC."""
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def demo_campaigns(today: dt.date) -> list[dict]:
    july = dt.date(today.year + (today.month > 7), 7, 1)
    freeze_day = today + dt.timedelta(days=14)
    return [
        {
            "slug": "stop-hate-for-profit",
            "kind": Kind.BOYCOTT,
            "title": "Stop Hate for Profit: pause your ads for July",
            "summary": "Brands and customers together: no paid ads on the network for one month, until it acts on hate and disinformation.",
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
            "title": "Walk away: I'm logging off",
            "summary": "A pledge to log off the platform for good, and to do it together.",
            "story": PLEDGE_STORY,
            "pledge_text": "I pledge to log off the platform: I will delete the app, download my data and stop posting.",
            "demands": "\n".join([
                "Let people take their data and their followers with them.",
                "Stop the endless feed designed to keep us scrolling.",
                "Stop selling what we do to advertisers we never chose.",
            ]),
            "goal": 1000,
            "share_text": "I've pledged to log off. If enough of us walk away together, they have to listen:",
        },
        {
            "slug": "account-freeze",
            "kind": Kind.FREEZE,
            "title": "24-hour account freeze",
            "summary": "One day, no posts: millions of accounts go quiet at the same moment.",
            "story": FREEZE_STORY,
            "pledge_text": "I'll join the freeze: I will post the statement, then not post, like or reply for 24 hours.",
            "demands": "\n".join([
                "Enforce the platform's own rules on hate speech, consistently.",
                "Explain every account suspension, and offer a real appeal.",
            ]),
            "goal": 5000,
            "window_start": _at("Europe/London", freeze_day, 9),
            "window_end": _at("Europe/London", freeze_day + dt.timedelta(days=1), 9),
            "time_zone": "Europe/London",
            "share_text": "For 24 hours, we go quiet together. I'm freezing my account. Join the freeze:",
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
    db.session.commit()
    return created
