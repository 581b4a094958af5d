"""Geometry for the dashboard's server-drawn SVG charts. The templates draw
them (and escape every label); this module does the arithmetic, and the
words of the labels and summaries.

A chart scales to the width it is shown at, and its labels with it: it is
drawn as wide as a phone's column (WIDTH), so that on a 360 px phone its
labels are shown at about their own size, not shrunk to unreadable; the
stylesheet caps how far it grows on a wide screen.

A chart's words (its days, figures and summary) are in the language being
rendered. Its geometry is drawn left to right; on a right-to-left page the
stylesheet mirrors it (see .chart in static/css/site.css)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from . import formats
from .counts import round_up_1_2_5

# User units across; about the width of a 360 px phone's column of text.
# A country's name beside its bar fits in 16 characters (organiser/_charts.html).
WIDTH = 320


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    max_value: int
    summary: str


def daily_chart(rows: list[dict], days: int = 60, today: dt.date | None = None) -> Chart:
    """Vertical bars for the last ``days`` days, zeros included, each
    labelled with its day as the language writes it."""
    by_day = {row["date"]: row["signatures"] for row in rows}
    end = today or (dt.date.fromisoformat(rows[-1]["date"]) if rows else dt.date.today())
    span = [end - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    values = [(formats.day(d, "medium"), by_day.get(d.isoformat(), 0)) for d in span]
    width, height, top = WIDTH, 160, 18
    top_value = round_up_1_2_5(max((v for _, v in values), default=0))
    slot = width / len(values)
    bars = [
        Bar(label, value, x=i * slot + 1, y=top + (height - top) * (1 - value / top_value),
            width=max(slot - 2, 1), height=(height - top) * value / top_value)
        for i, (label, value) in enumerate(values)
    ]
    total = sum(v for _, v in values)
    best = max(values, key=lambda pair: pair[1]) if values else ("", 0)
    # (flask_babel's ngettext keeps "num" for the raw count: the written one is "total".)
    sentences = [ngettext("%(total)s signature confirmed in the %(days)s days to %(end)s.",
                          "%(total)s signatures confirmed in the %(days)s days to %(end)s.", total,
                          total=formats.number(total), days=formats.number(days), end=formats.day(end, "medium"))]
    if total:
        sentences.append(_("The busiest day was %(day)s, with %(count)s.", day=best[0], count=formats.number(best[1])))
    summary = " ".join(sentences)
    return Chart(width, height, bars, top_value, summary)


def country_chart(rows: list[dict], limit: int = 12) -> Chart:
    """Horizontal bars for the countries with the most signatures."""
    shown = rows[:limit]
    width, row_height, label_width = WIDTH, 24, 124
    top_value = round_up_1_2_5(max((r["signatures"] for r in shown), default=0))
    bars = [
        Bar(row["country_name"], row["signatures"], x=label_width, y=i * row_height + 2,
            width=(width - label_width - 48) * row["signatures"] / top_value, height=row_height - 6)
        for i, row in enumerate(shown)
    ]
    summary = "; ".join(_("%(country)s: %(count)s", country=r["country_name"], count=formats.number(r["signatures"]))
                        for r in shown) or _("No signatures yet.")
    return Chart(width, max(len(shown), 1) * row_height + 4, bars, top_value, summary)
