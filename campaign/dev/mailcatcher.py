"""The development mail catcher: a real SMTP server (aiosmtpd) that keeps
every message it receives as a .eml file, readable at /dev/mail."""
from __future__ import annotations

import email
import email.policy
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller


class _SaveToFolder:
    def __init__(self, folder: Path):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def start_catcher(folder: Path, port: int, host: str = "127.0.0.1") -> Controller:
    """Start the catcher in a background thread; call .stop() to end it."""
    controller = Controller(_SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    return controller


@dataclass
class CaughtMail:
    id: str
    subject: str
    to: str
    sender: str
    date: str
    text: str
    html: str | None
    headers: list[tuple[str, str]]


def _read(path: Path) -> CaughtMail:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return CaughtMail(
        id=path.stem,
        subject=str(message["Subject"] or ""),
        to=str(message["To"] or ""),
        sender=str(message["From"] or ""),
        date=str(message["Date"] or ""),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else None,
        headers=[(k, str(v)) for k, v in message.items()],
    )


def list_mail(folder: Path) -> list[CaughtMail]:
    if not folder.is_dir():
        return []
    return [_read(path) for path in sorted(folder.glob("*.eml"), reverse=True)]


def get_mail(folder: Path, mail_id: str) -> CaughtMail | None:
    path = folder / f"{mail_id}.eml"
    if not mail_id.replace("-", "").isalnum() or not path.is_file():
        return None
    return _read(path)
