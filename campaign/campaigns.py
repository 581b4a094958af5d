"""Creating and editing campaigns, their status and their image."""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Campaign, CampaignStatus, Membership, Organiser

EDITABLE = (
    "kind", "slug", "title", "summary", "story", "pledge_text", "demands", "goal",
    "goal_fixed", "window_start", "window_end", "time_zone", "postcode_required",
    "share_text", "next_action",
)

# Checked against the file's first bytes, never its name or declared type.
_IMAGE_SIGNATURES = {
    "png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "webp": lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP",
}


def where_slug(slug: str):
    """The condition that picks campaign ``slug``, or None when no campaign
    can have it: PostgreSQL text cannot hold a NUL byte."""
    if "\x00" in slug:
        return None
    return Campaign.slug == slug


def campaign_by_slug(slug: str) -> Campaign | None:
    condition = where_slug(slug)
    if condition is None:
        return None
    return db.session.execute(select(Campaign).where(condition)).scalar_one_or_none()


def live_campaigns() -> list[Campaign]:
    return list(db.session.execute(
        select(Campaign).where(Campaign.status == CampaignStatus.LIVE).order_by(Campaign.created_at)).scalars())


class SlugTaken(ValueError):
    pass


class BadImage(ValueError):
    pass


def create_campaign(organiser: Organiser, fields: dict) -> Campaign:
    """A new draft campaign; its creator becomes a member."""
    campaign = Campaign(status=CampaignStatus.DRAFT, **{k: fields[k] for k in EDITABLE if k in fields})
    db.session.add(campaign)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise SlugTaken(fields.get("slug")) from None
    db.session.add(Membership(organiser_id=organiser.id, campaign_id=campaign.id))
    db.session.commit()
    return campaign


def update_campaign(campaign: Campaign, fields: dict) -> Campaign:
    for key in EDITABLE:
        if key in fields:
            setattr(campaign, key, fields[key])
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SlugTaken(fields.get("slug")) from None
    return campaign


def set_status(campaign: Campaign, status: CampaignStatus) -> None:
    campaign.status = status
    db.session.commit()


def image_folder() -> Path:
    return Path(current_app.instance_path) / "uploads"


def image_extension(data: bytes) -> str:
    """The file extension for an acceptable image; raises BadImage."""
    if len(data) > current_app.config["IMAGE_MAX_BYTES"]:
        raise BadImage("too large")
    head = data[:16]
    extension = next((ext for ext, test in _IMAGE_SIGNATURES.items() if test(head)), None)
    if extension is None:
        raise BadImage("not an image")
    return extension


def store_image(campaign: Campaign, data: bytes) -> str:
    """Keep a checked image under a generated name; raises BadImage."""
    extension = image_extension(data)
    folder = image_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    (folder / name).write_bytes(data)
    old = campaign.image_filename
    campaign.image_filename = name
    db.session.commit()
    if old:
        (folder / old).unlink(missing_ok=True)
    return name
