"""A small webhook receiver for tests (and the fan-out benchmark): a threaded
HTTP/1.1 server on 127.0.0.1 that records every request and answers as it
is told: a status (or a function of the request choosing one), a pause
before answering, a redirect, a big body.

    with Receiver() as receiver:
        url = receiver.url("/hook")
        receiver.answer(500)             # every request gets a 500 from now on
        receiver.answer(lambda r: 200)   # or whatever the function returns
        receiver.pause = 2.0             # seconds before answering
        receiver.body = b"x" * 100_000   # the answer's body
        receiver.requests                # Request(method, path, headers, body) in arrival order
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0  # what it was answered

    def json(self):
        return json.loads(self.body)


class Receiver:
    def __init__(self, record: bool = True):
        self.requests: list[Request] = []
        self.record = record
        self.count = 0
        self.pause = 0.0
        self.body = b"ok"
        self.location: str | None = None
        self._status: int | Callable[[Request], int] = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The answer in one write (headers and body buffered, flushed
            # after each request), with no Nagle delay.
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                request = Request(self.command, self.path, {k: v for k, v in self.headers.items()}, body)
                status = receiver._status(request) if callable(receiver._status) else receiver._status
                request.status = status
                with receiver._lock:
                    receiver.count += 1
                    if receiver.record:
                        receiver.requests.append(request)
                if receiver.pause:
                    time.sleep(receiver.pause)
                try:
                    self.send_response(status)
                    if receiver.location and 300 <= status < 400:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(receiver.body)))
                    self.end_headers()
                    self.wfile.write(receiver.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, status: int | Callable[[Request], int]) -> None:
        self._status = status

    def answered(self, status: int = 200) -> list[Request]:
        return [request for request in self.requests if request.status == status]

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # a receiver on its own, for the benchmark: prints its port
    import sys

    receiver = Receiver(record=False)
    print(receiver.port, flush=True)
    try:
        receiver.server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
