"""A real SMTP server for the tests (aiosmtpd), whose answers can be set."""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    envelope_to: list[str]
    raw: bytes

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def to(self) -> str:
        return self.envelope_to[0]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    # recipient -> SMTP reply for RCPT TO, e.g. "451 4.3.0 try later"
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Close the connection instead of accepting the message with this number.
    drop_at: int | None = None
    seen: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen == self.drop_at:
            server.transport.close()
            return "421 4.4.2 Closing connection"
        with self.lock:
            self.received.append(Received(list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"


class MailServer:
    """Start/stop to simulate an outage; ``rcpt_replies`` to refuse recipients."""

    def __init__(self, port: int | None = None):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = _Handler()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def rcpt_replies(self) -> dict[str, str]:
        return self.handler.rcpt_replies

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address.lower() in (a.lower() for a in m.envelope_to)]

    def start(self) -> MailServer:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def reset(self) -> None:
        self.handler.received.clear()
        self.handler.rcpt_replies.clear()
        self.handler.drop_at = None
        self.handler.seen = 0
