"""Creating and editing campaigns, their status and their image."""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, features
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import webhooks
from .extensions import db
from .models import Campaign, CampaignStatus, Membership, Organiser, utcnow

EDITABLE = (
    "kind", "slug", "title", "summary", "story", "pledge_text", "demands", "goal",
    "goal_fixed", "window_start", "window_end", "time_zone", "postcode_required",
    "share_text", "next_action", "asks_date", "date_question", "asks_reason",
    "statement", "window_mode", "local_start", "local_end", "check_in_email", "retention_days",
)

# The formats an image may come in, by Pillow's name for them (found from the
# file's content, never its name or declared type): the format it is written
# again in, the extension it is kept under and the options it is written with.
# MPO is a JPEG with more pictures after the first, as some cameras take them.
# WebP only where this Pillow can read it.
_IMAGE_FORMATS: dict[str, tuple[str, str, dict]] = {
    "PNG": ("PNG", "png", {}),
    "JPEG": ("JPEG", "jpg", {"quality": 85}),
    "MPO": ("JPEG", "jpg", {"quality": 85}),
    "GIF": ("GIF", "gif", {}),
    **({"WEBP": ("WEBP", "webp", {"quality": 85})} if features.check("webp") else {}),
}
# The readers tried: Pillow's JPEG reader is the one that finds an MPO.
_IMAGE_READERS = sorted({written_as for written_as, _, _ in _IMAGE_FORMATS.values()})


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
    """An upload refused as the campaign image; its text is one of the reasons below."""
    TOO_LARGE = "too large"  # over IMAGE_MAX_BYTES
    TOO_MANY_PIXELS = "too many pixels"  # wider or taller than IMAGE_MAX_PIXELS_SIDE, or a decompression bomb
    NOT_AN_IMAGE = "not an image"  # not one of the formats, or cannot be decoded whole


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
    """Publish, close or take back to draft. Closing starts the retention
    period (see retention); opening again stops it, and the next closing
    starts it afresh."""
    if status == CampaignStatus.CLOSED and campaign.status != CampaignStatus.CLOSED:
        campaign.closed_at = utcnow()
    elif status != CampaignStatus.CLOSED:
        campaign.closed_at = None
    if campaign.status != status:
        webhooks.queue_event(webhooks.CAMPAIGN_STATUS_CHANGED, campaign.id,
                             data={"from": str(campaign.status), "to": str(status)})
    campaign.status = status
    db.session.commit()


def image_folder() -> Path:
    return Path(current_app.instance_path) / "uploads"


@dataclass(frozen=True)
class CleanImage:
    """An upload decoded and written afresh by Pillow: the same format, its
    pixels (the first frame, turned as its EXIF orientation says) and nothing
    else, so no metadata (GPS, camera, comments, colour profile) and nothing
    hidden in or after the file survives."""
    data: bytes
    extension: str


def clean_image(data: bytes) -> CleanImage:
    """The upload ``data`` as a fresh image; raises BadImage. Its size in pixels
    is read from the header and checked before any pixel is decoded."""
    if len(data) > current_app.config["IMAGE_MAX_BYTES"]:
        raise BadImage(BadImage.TOO_LARGE)
    side = current_app.config["IMAGE_MAX_PIXELS_SIDE"]
    try:
        with Image.open(io.BytesIO(data), formats=_IMAGE_READERS) as image:
            if image.width > side or image.height > side:
                raise BadImage(BadImage.TOO_MANY_PIXELS)
            written_as, extension, options = _IMAGE_FORMATS[image.format]
            image.load()
            fresh = _pixels_only(ImageOps.exif_transpose(image), written_as)
            out = io.BytesIO()
            fresh.save(out, format=written_as, **options)
    except BadImage:
        raise
    except Image.DecompressionBombError:
        raise BadImage(BadImage.TOO_MANY_PIXELS) from None
    except Exception:  # a decoder fails in many ways (OSError, SyntaxError, ValueError, ...): all mean "cannot use"
        raise BadImage(BadImage.NOT_AN_IMAGE) from None
    return CleanImage(out.getvalue(), extension)


def _pixels_only(image: Image.Image, format_name: str) -> Image.Image:
    """``image`` with its metadata dropped, keeping only which colour is
    transparent, in a mode ``format_name`` can be written in."""
    if format_name == "JPEG" and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    return image


def store_image(campaign: Campaign, image: CleanImage) -> str:
    """Keep an image cleaned by ``clean_image`` under a generated name."""
    folder = image_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{image.extension}"
    (folder / name).write_bytes(image.data)
    old = campaign.image_filename
    campaign.image_filename = name
    db.session.commit()
    if old:
        (folder / old).unlink(missing_ok=True)
    return name
