"""The delivery engine's HTTP transport for webhooks: signed POSTs to addresses checked at delivery (see webhooks).

One connection object per batch keeps one persistent (keep-alive)
connection per scheme, host and port. Before its first POST to a host it
resolves the name (``resolve``, which the tests replace) and refuses unless
every address it resolves to is on the public internet (not loopback,
private, link-local with the cloud metadata address, shared CGNAT,
multicast, reserved, unspecified, IPv6 unique-local or link-local, nor any
of those inside an IPv4-mapped, NAT64, 6to4 or Teredo address); it then
connects to the address it checked, with no second lookup (a name that
changes its answer between the check and the connection gains nothing),
and verifies the certificate against the host name (SNI). Only https,
unless the site runs in debug (or under WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
which only tests may set: see campaign.configure).

Each POST takes at most WEBHOOK_TIMEOUT_SECONDS, connecting and reading
included (a watchdog ends one whose far end answers a byte at a time, so no
endpoint holds a worker, and the email behind it, for longer), follows no
redirect, and reads at most WEBHOOK_RESPONSE_BYTES of the answer. The
outcome is one of the engine's: sent (2xx), a temporary failure (5xx,
408, 429, a timeout, a refused or dropped connection, a name that does not
resolve: retried with backoff) or a permanent one (a redirect,
another 4xx, a refused address: a dead letter at once). A failure at one
endpoint never holds up another's deliveries in the batch. Every attempt
is written to ``webhook_attempt`` when the batch's connection closes, in
the transaction that records the batch."""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from .extensions import db, on_postgresql
from .models import WebhookAttempt, utcnow
from .outbox import PermanentFailure, TemporaryFailure, register_transport

TRANSPORT = "http"

SIGNATURE_HEADER = "Campaign-Signature"
EVENT_HEADER = "Campaign-Event"
EVENT_ID_HEADER = "Campaign-Event-Id"
ATTEMPT_HEADER = "Campaign-Delivery-Attempt"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "campaign-site-webhooks/1"

_ERROR_MAX = 500


@dataclass(frozen=True)
class WebhookRequest:
    """One rendered delivery (see webhooks): where, what, and for the log."""

    url: str
    secret: str
    body: bytes
    event: str
    event_id: str
    idempotency_key: str
    message_id: int
    endpoint_id: int
    attempt: int
    # Work to do while the endpoint answers (rendering the next delivery):
    # called once the request is written, before its answer is read.
    meanwhile: Callable[[], None] | None = None


# --- Signing -----------------------------------------------------------------------

def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp + "." + body`` under ``secret``."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (the documentation shows the same): the header's
    timestamp is at most ``tolerance`` seconds old and one of its v1
    signatures matches the body."""
    try:
        fields = [part.split("=", 1) for part in header.split(",")]
        timestamp = int(next(value for key, value in fields if key.strip() == "t"))
    except (ValueError, StopIteration):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(key.strip() == "v1" and hmac.compare_digest(value.strip(), expected) for key, value in fields)


# --- Addresses ---------------------------------------------------------------------

def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the tests replace this)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """Whether ``address`` is on the public internet, and nothing else."""
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(inner is not None and not is_public(inner) for inner in embedded):
            return False
        if address.ipv4_mapped is not None:
            return True
    elif address in _CGNAT:
        return False
    return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified) and address.is_global


def private_addresses_allowed() -> bool:
    """The tests' relaxation (their receiver is on 127.0.0.1): honoured only
    in a testing app; the app factory refuses to start with it otherwise."""
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES")) and current_app.testing


class _Refused(Exception):
    pass


def checked_address(scheme: str, host: str, port: int) -> str:
    """The address to connect to for ``host``, checked (see the module
    docstring); raises _Refused (for good) or TemporaryFailure."""
    if scheme not in ("https", "http") or (scheme == "http" and not (current_app.debug or private_addresses_allowed())):
        raise _Refused(f"scheme {scheme!r} not allowed: https only")
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise TemporaryFailure(f"could not resolve {host}: {exc}") from exc
    if not addresses:
        raise TemporaryFailure(f"{host} resolves to no address")
    if not private_addresses_allowed():
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise _Refused(f"refused address {', '.join(refused)} for {host}: not a public internet address")
    return addresses[0]


# --- Connections ----------------------------------------------------------------------

class _ProtocolError(Exception):
    """The far end answered something that is not HTTP/1.x."""


class _Stale(Exception):
    """A reused keep-alive connection turned out closed before any answer."""


_LINE_MAX = 65536
_HEADERS_MAX = 100
# An answer up to this long is read whole (so the connection can carry the
# next delivery); a longer one is read up to the excerpt and the connection closed.
_DRAIN_MAX = 64 * 1024


class _Pinned:
    """One HTTP/1.1 keep-alive connection to an address checked beforehand
    (the Host header, and for https the SNI and certificate, name the host).
    A lean client: the request is one write, the answer's head is parsed
    line by line and its body read up to a bound."""

    def __init__(self, scheme: str, host: str, port: int, address: str, timeout: float,
                 context: ssl.SSLContext | None):
        self.scheme, self.host, self.port, self.address = scheme, host, port, address
        self.timeout, self.context = timeout, context
        default = 443 if scheme == "https" else 80
        name = f"[{host}]" if ":" in host else host
        self.host_header = name if port == default else f"{name}:{port}"
        self.sock = None
        self.reader = None
        self.used = False
        # While a POST is under way: when it must be over (see _Watchdog).
        self.deadline: float | None = None
        self.expired = False

    def expire(self) -> None:
        """End the POST under way: its reads fail at once."""
        self.expired = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock, self.reader, self.used = sock, sock.makefile("rb"), False

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None

    def post(self, path: str, headers: dict[str, str], body: bytes, limit: int,
             meanwhile: Callable[[], None] | None = None) -> tuple[int, bytes, bool]:
        """POST and read the answer: (status, the start of the body, whether
        the connection may carry another request). Raises _Stale when a reused
        connection was closed by the far end before it answered."""
        self.deadline, self.expired = time.monotonic() + self.timeout, False
        try:
            return self._post(path, headers, body, limit, meanwhile)
        except BaseException as exc:
            if self.expired:
                raise TimeoutError("the whole request took too long") from exc
            raise
        finally:
            self.deadline = None

    def _post(self, path: str, headers: dict[str, str], body: bytes, limit: int,
              meanwhile: Callable[[], None] | None) -> tuple[int, bytes, bool]:
        if self.sock is None:
            self.connect()
        reused = self.used
        self.used = True
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host_header}", f"Content-Length: {len(body)}",
                *(f"{name}: {value}" for name, value in headers.items()), "", ""]
        try:
            self.sock.sendall("\r\n".join(head).encode("latin-1") + body)
            if meanwhile is not None:
                _meanwhile(meanwhile)
            line = self.reader.readline(_LINE_MAX + 1)
        except (BrokenPipeError, ConnectionResetError) as exc:
            if reused:
                raise _Stale from exc
            raise
        if not line and reused:
            raise _Stale
        for _ in range(10):
            status, version = self._status(line)
            fields = self._fields()
            if status >= 200:
                break
            line = self.reader.readline(_LINE_MAX + 1)  # an interim 1xx answer: the real one follows
        else:
            raise _ProtocolError("too many interim answers")
        keep = version != "HTTP/1.0" and "close" not in fields.get("connection", "").lower()
        if status in (204, 304):
            return status, b"", keep
        if "chunked" in fields.get("transfer-encoding", "").lower():
            data, whole = self._chunked(limit)
            return status, data, keep and whole
        if "content-length" in fields:
            try:
                length = int(fields["content-length"])
            except ValueError as exc:
                raise _ProtocolError("bad Content-Length") from exc
            if length < 0:
                raise _ProtocolError("bad Content-Length")
            if length <= _DRAIN_MAX:
                return status, self._exactly(length), keep
            return status, self.reader.read(limit), False
        return status, self.reader.read(limit), False

    def _status(self, line: bytes) -> tuple[int, str]:
        if not line:
            raise _ProtocolError("connection closed before an answer")
        if len(line) > _LINE_MAX:
            raise _ProtocolError("status line too long")
        parts = line.decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
            raise _ProtocolError(f"not an HTTP answer: {line[:80]!r}")
        return int(parts[1]), parts[0]

    def _fields(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for _ in range(_HEADERS_MAX + 1):
            line = self.reader.readline(_LINE_MAX + 1)
            if line in (b"\r\n", b"\n"):
                return fields
            if not line or len(line) > _LINE_MAX:
                raise _ProtocolError("bad answer headers")
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        raise _ProtocolError("too many answer headers")

    def _exactly(self, length: int) -> bytes:
        data = self.reader.read(length)
        if len(data) < length:
            raise _ProtocolError("answer shorter than its Content-Length")
        return data

    def _chunked(self, limit: int) -> tuple[bytes, bool]:
        """The start of a chunked body, and whether all of it was read."""
        data = bytearray()
        while len(data) <= _DRAIN_MAX:
            line = self.reader.readline(_LINE_MAX + 1)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _ProtocolError("bad chunk") from exc
            if size == 0:
                self._fields()  # trailers
                return bytes(data[:limit]), True
            data += self._exactly(size)
            self._exactly(2)
        return bytes(data[:limit]), False


class _Watchdog:
    """Ends any POST of a batch's connections that runs past its deadline:
    the socket's timeout bounds each read, not a far end that sends one
    byte every few seconds. One thread per batch, checking ten times a second."""

    def __init__(self, connections: dict):
        self.connections = connections
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="webhook-watchdog", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(0.1):
            now = time.monotonic()
            for connection in list(self.connections.values()):
                deadline = connection.deadline
                if deadline is not None and now > deadline and not connection.expired:
                    connection.expire()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def _meanwhile(work: Callable[[], None]) -> None:
    """Work done ahead is only ahead: if it fails, it is done again (and its
    failure reported) in its turn."""
    with contextlib.suppress(Exception):
        work()


class HttpConnection:
    """The transport's connection for one batch (see the module docstring)."""

    def __init__(self):
        config = current_app.config
        self.timeout = float(config["WEBHOOK_TIMEOUT_SECONDS"])
        self.response_bytes = int(config["WEBHOOK_RESPONSE_BYTES"])
        self.connections: dict[tuple[str, str, int], _Pinned] = {}
        self.addresses: dict[tuple[str, str, int], str | Exception] = {}
        self.attempts: list[dict] = []
        self.targets: dict[str, tuple[str, str, int, str]] = {}
        self._context: ssl.SSLContext | None = None
        self.watchdog: _Watchdog | None = None

    def open(self) -> None:
        """Nothing to open yet: each host's connection is made at its first POST."""

    def reopen(self) -> None:
        self._drop_all()

    def close(self) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()
            self.watchdog = None
        self._drop_all()
        if self.attempts:
            _write_attempts(self.attempts)
            self.attempts = []

    def _drop_all(self) -> None:
        for connection in self.connections.values():
            connection.close()
        self.connections.clear()

    def _connection(self, scheme: str, host: str, port: int) -> _Pinned:
        key = (scheme, host, port)
        connection = self.connections.get(key)
        if connection is not None:
            return connection
        address = self.addresses.get(key)
        if address is None:
            try:
                address = checked_address(scheme, host, port)
            except (_Refused, TemporaryFailure) as exc:
                address = exc
            self.addresses[key] = address
        if isinstance(address, Exception):
            raise address
        if scheme == "https" and self._context is None:
            self._context = ssl.create_default_context()
        connection = self.connections[key] = _Pinned(scheme, host, port, address, self.timeout,
                                                     self._context if scheme == "https" else None)
        if self.watchdog is None:
            self.watchdog = _Watchdog(self.connections)
        return connection

    def _drop(self, key) -> None:
        connection = self.connections.pop(key, None)
        if connection is not None:
            connection.close()

    def send(self, request: WebhookRequest) -> str:
        """POST one delivery; returns "HTTP <status>" or raises the engine's failures."""
        began = time.perf_counter()
        status, excerpt, error = None, None, None
        try:
            status, excerpt = self._post(request)
        except _Refused as exc:
            error = str(exc)
            raise PermanentFailure(error) from exc
        except TemporaryFailure as exc:
            error = str(exc)
            raise
        except TimeoutError as exc:
            error = f"timed out after {self.timeout:g} s"
            raise TemporaryFailure(error) from exc
        except (OSError, _ProtocolError, _Stale, ssl.SSLError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
            raise TemporaryFailure(error) from exc
        finally:
            error = error or _outcome_error(status)
            self.attempts.append({
                "endpoint_id": request.endpoint_id, "message_id": request.message_id, "event": request.event[:40],
                "attempt": request.attempt, "status_code": status,
                "duration_ms": int((time.perf_counter() - began) * 1000),
                "error": error[:_ERROR_MAX] if error else None, "response": excerpt, "created_at": utcnow()})
        problem = _outcome_error(status)
        detail = f"{problem}: {excerpt[:200]}" if excerpt else problem
        if 200 <= status < 300:
            return f"HTTP {status}"
        if status >= 500 or status in (408, 429):
            raise TemporaryFailure(detail)
        raise PermanentFailure(detail)

    def _target(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, path) of an endpoint's URL, parsed once per batch."""
        target = self.targets.get(url)
        if target is None:
            parts = urlsplit(url)
            scheme, host = parts.scheme.lower(), parts.hostname or ""
            try:
                port = parts.port or (443 if scheme == "https" else 80)
            except ValueError as exc:
                raise _Refused(f"bad address: {exc}") from exc
            if not host or parts.username is not None or parts.password is not None:
                raise _Refused("bad address: no host, or credentials in it")
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            target = self.targets[url] = (scheme, host, port, path)
        return target

    def _post(self, request: WebhookRequest) -> tuple[int, str]:
        scheme, host, port, path = self._target(request.url)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(request.secret, request.body),
            EVENT_HEADER: request.event,
            EVENT_ID_HEADER: request.event_id,
            IDEMPOTENCY_HEADER: request.idempotency_key,
            ATTEMPT_HEADER: str(request.attempt),
        }
        key = (scheme, host, port)
        limit = self.response_bytes * 4  # bytes enough for as many characters of UTF-8
        for last in (False, True):
            connection = self._connection(scheme, host, port)
            try:
                status, data, keep = connection.post(path, headers, request.body, limit, request.meanwhile)
            except _Stale:
                self._drop(key)
                if last:
                    raise
                continue  # the far end closed an idle connection: once more on a new one
            except BaseException:
                self._drop(key)
                raise
            if not keep:
                self._drop(key)
            return status, data.decode("utf-8", errors="replace")[:self.response_bytes]
        raise AssertionError("unreachable")


_ATTEMPT_COLUMNS = ("endpoint_id", "message_id", "event", "attempt", "status_code", "duration_ms", "error",
                    "response", "created_at")


def _write_attempts(attempts: list[dict]) -> None:
    """The batch's attempts, in the session's transaction: one COPY on
    PostgreSQL, one executemany elsewhere."""
    if on_postgresql():
        cursor = db.session.connection().connection.driver_connection.cursor()
        with cursor.copy(f"COPY webhook_attempt ({', '.join(_ATTEMPT_COLUMNS)}) FROM STDIN") as copy:
            for attempt in attempts:
                copy.write_row(tuple(attempt[name] for name in _ATTEMPT_COLUMNS))
        return
    db.session.execute(WebhookAttempt.__table__.insert(), attempts)


def _outcome_error(status: int | None) -> str | None:
    if status is None or 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"HTTP {status}: redirect not followed"
    return f"HTTP {status}"


register_transport(TRANSPORT, HttpConnection, paced=False)
