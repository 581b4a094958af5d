"""A business's pause period: the days it pledges to pause its ads, as it
states them when it pledges and as it may extend them later, and the rules
of both.

Periods are calendar days, both ends included, in the business's own
reckoning (no time zone): "from 1 July to 31 July". A period with no end is
"until further notice". The public list (templates/_pause.html) shows a
business as pausing, extended (once it has extended) or resumed (once an
organiser says so). The rules keep a pause near the present (it starts
within a year of today, it has not ended already) and a dated one under two
years, so a typo (2062 for 2026) is caught rather than listed. Days are written
for people in the page's language (formats.day); the forms take and give
them as ISO dates."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from . import formats
from .models import Business, Campaign

# How far from today a pause may start, and how long a dated one may last.
START_WITHIN = dt.timedelta(days=366)
LONGEST_DATED = dt.timedelta(days=731)
# How often a business may extend its pause (each must move the end later).
MOST_EXTENSIONS = 10


def default_period(campaign: Campaign) -> tuple[dt.date | None, dt.date | None]:
    """The campaign's window as days in its time zone: what the business
    form offers. The window's end is exclusive (midnight after the last
    day), so the last day is the one before it."""
    if campaign.window_start is None or campaign.window_end is None:
        return None, None
    zone = campaign.zone

    def local(moment: dt.datetime) -> dt.datetime:
        return moment.replace(tzinfo=dt.UTC).astimezone(zone)

    start = local(campaign.window_start).date()
    end = (local(campaign.window_end) - dt.timedelta(microseconds=1)).date()
    return start, max(start, end)


def pledge_problem(start: dt.date, end: dt.date | None, today: dt.date) -> tuple[str, str] | None:
    """(field, message) of the first rule a stated period breaks, or None."""
    if start > today + START_WITHIN:
        return "pause_start", _l("The pause must start within a year from today")
    if start < today - START_WITHIN:
        return "pause_start", _l("The pause cannot have started more than a year ago")
    if end is None:
        return None
    if end < start:
        return "pause_end", _l("The pause must end on or after the day it starts")
    if end < today:
        return "pause_end", _l("The pause must end today or later")
    if end - start > LONGEST_DATED:
        return "pause_end", _l("A pause with an end date can last at most two years: "
                               "leave the end empty for “until further notice”")
    return None


def extension_problem(business: Business, new_end: dt.date) -> str | None:
    """The message for a new last day that does not extend ``business``'s
    pause, or None."""
    if business.pause_end is not None and new_end <= business.pause_end:
        return _l("Choose a day after the current last day, %(day)s", day=formats.day(business.pause_end))
    start = business.pause_start or new_end
    if new_end - start > LONGEST_DATED:
        return _l("A pause with an end date can last at most two years: tick “Until further notice” instead")
    return None

