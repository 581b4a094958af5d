"""Two-factor authentication for organisers: a time-based code (TOTP, RFC
6238) from an authenticator app, or one of ten single-use recovery codes.

Enrolling: the organiser's page shows a fresh secret as a QR code (drawn on
the server as SVG) and as text; it is kept on the account, not yet in use,
until a code made from it is entered. Then two-factor is on, every other
session of the organiser ends, and ten recovery codes are made and shown
once; only their hashes are kept.

Logging in: after the right password, the code is asked for (see the login
views). A code is accepted for the current 30-second step or the one either
side (clocks drift), and never for a step at or before the last one
accepted, so a code seen over a shoulder or in a log cannot be used again. A
recovery code works once.

Admins can require two-factor of everyone (a site setting): an organiser
without it is then sent to enrol before anything else."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, func, select, update

from . import site_settings
from .extensions import db
from .models import Organiser, RecoveryCode, utcnow

RECOVERY_CODES = 10
# Recovery codes are written in this alphabet (no 0/O, 1/I/L) in two groups
# of five: 50 random bits each, far beyond guessing.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_REQUIRED = "two_factor_required"


class CodeRefused(ValueError):
    """The code is not right, or has been used."""


# --- Site rule ------------------------------------------------------------------------

def required() -> bool:
    return site_settings.is_on(_REQUIRED)


def set_required(on: bool) -> None:
    site_settings.change(_REQUIRED, "yes" if on else "no")
    db.session.commit()


def must_enrol(organiser: Organiser) -> bool:
    """The site requires two-factor and this organiser has not turned it on."""
    return not organiser.has_two_factor and required()


# --- Enrolling ------------------------------------------------------------------------

def pending_secret(organiser: Organiser) -> str:
    """The secret to enrol with: the one shown before (so a reload or a
    mistyped code does not make the organiser scan again), else a new one."""
    if organiser.has_two_factor:
        raise ValueError("two-factor is already on")
    if not organiser.totp_secret:
        organiser.totp_secret = pyotp.random_base32()
        db.session.commit()
    return organiser.totp_secret


def provisioning_uri(organiser: Organiser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=organiser.email, issuer_name=site_settings.site().name)


def qr_svg(uri: str, label: str) -> Markup:
    """The QR code of ``uri`` as inline SVG, titled ``label`` for screen readers."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", title=label)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def enable(organiser: Organiser, code: str) -> list[str]:
    """Turns two-factor on if ``code`` is right for the pending secret;
    returns the recovery codes to show once. Raises CodeRefused."""
    if organiser.has_two_factor or not organiser.totp_secret:
        raise CodeRefused()
    step = _accepted_step(organiser, code)
    organiser.totp_enabled_at = utcnow()
    organiser.totp_last_step = step
    return _new_recovery_codes(organiser)


def new_recovery_codes(organiser: Organiser, code: str) -> list[str]:
    """Replaces every recovery code (old ones stop working) once a current
    code proves the app is at hand. Raises CodeRefused."""
    organiser.totp_last_step = _accepted_step(organiser, code)
    return _new_recovery_codes(organiser)


def confirm_code(organiser: Organiser, code: str) -> None:
    """Accepts a current code (once) before a sensitive change. Raises CodeRefused."""
    organiser.totp_last_step = _accepted_step(organiser, code)
    db.session.commit()


def disable(organiser: Organiser) -> None:
    """Turns two-factor off and forgets the secret and recovery codes. The
    caller checks the organiser may (password and code, or an admin)."""
    organiser.totp_secret = None
    organiser.totp_enabled_at = None
    organiser.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    db.session.commit()


def recovery_codes_left(organiser: Organiser) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.organiser_id == organiser.id, RecoveryCode.used_at.is_(None)))


def _new_recovery_codes(organiser: Organiser) -> list[str]:
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id))
    db.session.add_all(RecoveryCode(organiser_id=organiser.id, code_hash=_code_hash(code)) for code in codes)
    db.session.commit()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


# --- Checking a code at login ---------------------------------------------------------

def check(organiser: Organiser, entered: str) -> str:
    """Accepts a current code or an unused recovery code for ``organiser``;
    returns which ("totp" or "recovery"). Raises CodeRefused."""
    code = "".join(entered.split()).replace("-", "").lower()
    if code.isdigit():
        step = _accepted_step(organiser, code)
        # Only if no other request accepted this step or a later one meanwhile.
        won = db.session.execute(
            update(Organiser).where(Organiser.id == organiser.id,
                                    (Organiser.totp_last_step.is_(None)) | (Organiser.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if not won:
            raise CodeRefused()
        return "totp"
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.organiser_id == organiser.id,
                                   RecoveryCode.code_hash == _code_hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    if not used:
        raise CodeRefused()
    return "recovery"


def _accepted_step(organiser: Organiser, code: str) -> int:
    """The time step ``code`` was made for (this one or one either side),
    later than the last accepted; else CodeRefused."""
    code = "".join(code.split())
    if not organiser.totp_secret or len(code) != 6 or not code.isdigit():
        raise CodeRefused()
    totp = pyotp.TOTP(organiser.totp_secret)
    now = totp.timecode(dt.datetime.now(dt.UTC))
    for step in (now - 1, now, now + 1):
        if (organiser.totp_last_step is None or step > organiser.totp_last_step) \
                and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    raise CodeRefused()


def _code_hash(code: str) -> str:
    """Recovery codes carry 50 random bits: a plain hash keeps them safe."""
    return hashlib.sha256(code.encode()).hexdigest()


