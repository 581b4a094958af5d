"""Campaign windows (a boycott's pause, a freeze's protest) for display and
as an iCalendar file.

A freeze at "the same local hours everywhere" keeps its wall-clock hours
(``local_start``, ``local_end``) and, in ``window_start``/``window_end``,
the span from the moment they first start anywhere (the zones furthest
east) to the moment they last end (furthest west). Its public states are
that span's: upcoming until it starts somewhere, happening while it is on
anywhere, ended once it has ended everywhere. Each signer's own window is
the same hours in their zone (``signer_window``).

What a person reads of a window is in the page's language, in CLDR's own
words and order (see formats); what a machine reads (``<time datetime>``,
the countdown's target, the .ics file) is ISO."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from . import formats
from .links import absolute_url
from .models import Campaign, utcnow
from .time_zones import zone_names


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)


def in_zone(local: dt.datetime, zone: str) -> dt.datetime:
    """A wall-clock time in ``zone`` as naive UTC (a time skipped by a
    clock change counts as the time it would have been)."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC).replace(tzinfo=None)


def local_span(local_start: dt.datetime, local_end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC span of the same local hours in every zone a signer may
    choose: from its first start to its last end."""
    starts = [in_zone(local_start, zone) for zone in zone_names()]
    ends = [in_zone(local_end, zone) for zone in zone_names()]
    return min(starts), max(ends)


def signer_window(campaign: Campaign, zone: str | None) -> tuple[dt.datetime, dt.datetime] | None:
    """A signer's own window in naive UTC: the campaign's, or for a freeze
    at the same local hours everywhere, those hours in ``zone`` (the
    campaign's zone if the signer has none)."""
    if campaign.window_start is None or campaign.window_end is None:
        return None
    if not campaign.local_hours:
        return campaign.window_start, campaign.window_end
    zone = zone or campaign.time_zone
    return in_zone(campaign.local_start, zone), in_zone(campaign.local_end, zone)


def describe_window(campaign: Campaign, now: dt.datetime | None = None) -> dict | None:
    """What the page needs to show a window: state, local and UTC times,
    in the language being rendered (the page is kept per language). Nothing
    here may change with the clock except the state: pages keep it until
    the campaign is edited or the state changes."""
    if campaign.window_start is None or campaign.window_end is None:
        return None
    zone = campaign.zone
    start, end = _aware(campaign.window_start), _aware(campaign.window_end)
    return {
        "state": campaign.window_state(now),
        "start_iso": start.isoformat().replace("+00:00", "Z"),
        "end_iso": end.isoformat().replace("+00:00", "Z"),
        # "Sunday, March 1, 2099, 9:00 AM EST": the day in full, in the organiser's zone.
        "start_local": formats.moment(start, zone),
        "end_local": formats.moment(end, zone),
        # "Mar 1, 2099, 2:00 PM UTC" (static/js/site.js puts the reader's own time in its place).
        "start_utc": formats.moment(start, dt.UTC, width="medium"),
        "end_utc": formats.moment(end, dt.UTC, width="medium"),
        "time_zone": campaign.time_zone,
        "local_hours": campaign.local_hours,
        **(_local_hours(campaign) if campaign.local_hours else {}),
    }


def _local_hours(campaign: Campaign) -> dict:
    """The wall-clock hours of a freeze at the same local hours everywhere:
    as words, and as an ISO time without a zone, which a browser reads as
    its own local time (the countdown counts to the reader's own start)."""
    return {
        "local_start_words": formats.wall_clock(campaign.local_start),
        "local_end_words": formats.wall_clock(campaign.local_end),
        "local_start_iso": campaign.local_start.isoformat(timespec="minutes"),
    }


def calendar_file(campaign: Campaign) -> bytes:
    """An .ics with one event for the campaign's window."""
    calendar = Calendar()
    calendar.add("prodid", "-//Campaign site//campaign windows//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"campaign-{campaign.id}-window@{absolute_url('public.index').split('://', 1)[-1].strip('/')}")
    event.add("summary", campaign.title)
    if campaign.local_hours:  # floating times: the same hours in whatever zone the calendar is in
        event.add("dtstart", campaign.local_start)
        event.add("dtend", campaign.local_end)
    else:
        event.add("dtstart", _aware(campaign.window_start))
        event.add("dtend", _aware(campaign.window_end))
    event.add("dtstamp", _aware(utcnow()))
    event.add("url", absolute_url("public.campaign_page", slug=campaign.slug))
    event.add("description", f"{campaign.summary}\n\n{absolute_url('public.campaign_page', slug=campaign.slug)}")
    calendar.add_component(event)
    return calendar.to_ical()
