"""Campaign windows (a boycott's pause, a freeze's protest) for display and
as an iCalendar file."""
from __future__ import annotations

import datetime as dt

from babel.dates import format_datetime
from icalendar import Calendar, Event

from .links import absolute_url
from .models import Campaign, utcnow


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)


def describe_window(campaign: Campaign, now: dt.datetime | None = None) -> dict | None:
    """What the page needs to show a window: state, local and UTC times.
    Nothing here may change with the clock except the state: pages keep it
    until the campaign is edited or the state changes."""
    if campaign.window_start is None or campaign.window_end is None:
        return None
    zone = campaign.zone
    start, end = _aware(campaign.window_start), _aware(campaign.window_end)
    fmt = "EEEE d MMMM y, HH:mm zzz"
    return {
        "state": campaign.window_state(now),
        "start_iso": start.isoformat().replace("+00:00", "Z"),
        "end_iso": end.isoformat().replace("+00:00", "Z"),
        "start_local": format_datetime(start, fmt, tzinfo=zone, locale="en"),
        "end_local": format_datetime(end, fmt, tzinfo=zone, locale="en"),
        "start_utc": format_datetime(start, "d MMM y, HH:mm 'UTC'", tzinfo=dt.UTC, locale="en"),
        "end_utc": format_datetime(end, "d MMM y, HH:mm 'UTC'", tzinfo=dt.UTC, locale="en"),
        "time_zone": campaign.time_zone,
    }



def calendar_file(campaign: Campaign) -> bytes:
    """An .ics with one event for the campaign's window."""
    calendar = Calendar()
    calendar.add("prodid", "-//Campaign site//campaign windows//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"campaign-{campaign.id}-window@{absolute_url('public.index').split('://', 1)[-1].strip('/')}")
    event.add("summary", campaign.title)
    event.add("dtstart", _aware(campaign.window_start))
    event.add("dtend", _aware(campaign.window_end))
    event.add("dtstamp", _aware(utcnow()))
    event.add("url", absolute_url("public.campaign_page", slug=campaign.slug))
    event.add("description", f"{campaign.summary}\n\n{absolute_url('public.campaign_page', slug=campaign.slug)}")
    calendar.add_component(event)
    return calendar.to_ical()
