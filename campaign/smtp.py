"""The SMTP transport: one connection per batch (Flask-Mail's settings),
a socket timeout so a silent server cannot hang the worker, a way to
reconnect, and SMTP's replies sorted into the engine's temporary and
permanent failures."""
from __future__ import annotations

import smtplib

from flask import current_app
from flask_mail import Connection

from .mail_merge import OutgoingEmail
from .outbox import ConnectionLost, PermanentFailure, TemporaryFailure, register_transport


def _reply(text) -> str:
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


class SmtpConnection(Connection):
    """Flask-Mail's connection, opened when the engine first needs it."""

    def __init__(self):
        super().__init__(current_app.extensions["mail"])
        self.host = None

    def configure_host(self):
        cls = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = cls(self.mail.server, self.mail.port, timeout=current_app.config["MAIL_TIMEOUT"])
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def open(self) -> None:
        try:
            self.host = self.configure_host()
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionLost(str(exc) or type(exc).__name__) from exc

    def reopen(self) -> None:
        self.close()
        self.open()

    def close(self) -> None:
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()
            self.host = None

    def send(self, message: OutgoingEmail) -> str:
        """Send one message; returns its Message-ID."""
        try:
            self.host.sendmail(message.sender, message.recipients, message.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(f"{code} {_reply(reply)}") from exc
        except smtplib.SMTPSenderRefused as exc:
            # Our sender was refused: a configuration problem, not this recipient's.
            raise TemporaryFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"not supported by the server: {exc}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise ConnectionLost(str(exc) or "server disconnected") from exc
        except smtplib.SMTPResponseException as exc:
            detail = f"{exc.smtp_code} {_reply(exc.smtp_error)}"
            raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(detail) from exc
        except (TimeoutError, OSError) as exc:
            raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
        return message.message_id


register_transport("smtp", SmtpConnection)
