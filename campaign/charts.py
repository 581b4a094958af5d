"""Geometry for the dashboard's server-drawn SVG charts. The templates draw
them (and escape every label); this module only does the arithmetic.

A chart scales to the width it is shown at, and its labels with it: it is
drawn as wide as a phone's column (WIDTH), so that on a 360 px phone its
labels are shown at about their own size, not shrunk to unreadable; the
stylesheet caps how far it grows on a wide screen."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
    """Vertical bars for the last ``days`` days, zeros included."""
    by_day = {row["date"]: row["signatures"] for row in rows}
    end = today or (dt.date.fromisoformat(rows[-1]["date"]) if rows else dt.date.today())
    span = [end - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    values = [(d.isoformat(), by_day.get(d.isoformat(), 0)) for d in span]
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
    summary = (f"{total} signatures confirmed in the {days} days to {end.isoformat()}; "
               f"the busiest day was {best[0]} with {best[1]}.")
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
    summary = "; ".join(f"{r['country_name']}: {r['signatures']}" for r in shown) or "No signatures yet."
    return Chart(width, max(len(shown), 1) * row_height + 4, bars, top_value, summary)
