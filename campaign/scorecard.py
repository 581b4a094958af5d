"""The scorecard of a campaign's demands: each line of ``Campaign.demands``
with a status (no response, partly met, met, rejected) and the dated
entries that set it, each with a link to its source.

The text stays the one place demands are written. A line's scorecard row
(Demand) is found by the line's text, case- and space-folded and hashed
(``demand_key``), never by its position: reordering lines, or adding and
removing others, keeps every line's history with it, and a status can
never slide onto another demand. Rewording a line makes it a new demand
with no response yet; the old row keeps its history, off the public page
and listed for organisers as a former demand, and comes back if the old
wording does. Rows are made when a first status is recorded: until then a
line simply has no response."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .extensions import db, dialect_insert
from .models import Campaign, Demand, DemandEntry, DemandStatus, Organiser, utcnow


def demand_key(line: str) -> str:
    return hashlib.sha256(" ".join(line.casefold().split()).encode()).hexdigest()


@dataclass(frozen=True)
class Row:
    """One demand as the scorecard shows it."""
    text: str
    key: str
    status: DemandStatus = DemandStatus.NO_RESPONSE
    entries: list[DemandEntry] = field(default_factory=list)


def _demands(campaign_id: int) -> dict[str, Demand]:
    return {demand.key: demand for demand in db.session.execute(
        select(Demand).options(selectinload(Demand.entries)).where(Demand.campaign_id == campaign_id)).scalars()}


def scorecard_of(campaign: Campaign) -> list[Row]:
    """Every line of the campaign's demands, in their order, with its status and entries."""
    found = _demands(campaign.id)
    rows = []
    for line in campaign.demand_list:
        key = demand_key(line)
        demand = found.get(key)
        rows.append(Row(line, key) if demand is None
                    else Row(line, key, DemandStatus(demand.status), list(demand.entries)))
    return rows


def former_demands(campaign: Campaign) -> list[Demand]:
    """Rows whose line is no longer in the demands (reworded or removed), with their history."""
    current = {demand_key(line) for line in campaign.demand_list}
    return [demand for key, demand in _demands(campaign.id).items() if key not in current]


class UnknownDemand(LookupError):
    """No line of the campaign's demands has this key (edited meanwhile)."""


def record_status(campaign: Campaign, key: str, status: DemandStatus, happened_on: dt.date, note: str,
                  source_url: str | None, organiser: Organiser | None) -> Row:
    """Add a dated entry to the demand whose line has ``key``, and make its
    status the one of its latest entry (by day, then as recorded): an entry
    back-dated before others adds history without changing the status.
    The caller records the audit event before: this commit writes both."""
    line = next((line for line in campaign.demand_list if demand_key(line) == key), None)
    if line is None:
        db.session.rollback()
        raise UnknownDemand(key)
    # The unique (campaign, key) settles two first entries at once.
    db.session.execute(dialect_insert(Demand).values(
        campaign_id=campaign.id, key=key, text=line, status=DemandStatus.NO_RESPONSE, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["campaign_id", "key"]))
    demand = db.session.execute(select(Demand).where(Demand.campaign_id == campaign.id, Demand.key == key)
                                .with_for_update()).scalar_one()
    db.session.add(DemandEntry(demand_id=demand.id, status=status, happened_on=happened_on, note=note,
                               source_url=source_url, organiser_id=organiser.id if organiser else None))
    db.session.flush()
    latest = db.session.execute(select(DemandEntry.status).where(DemandEntry.demand_id == demand.id)
                                .order_by(DemandEntry.happened_on.desc(), DemandEntry.id.desc()).limit(1)).scalar_one()
    demand.text = line
    demand.status = latest
    db.session.commit()
    db.session.refresh(demand)
    return Row(line, key, DemandStatus(demand.status), list(demand.entries))
