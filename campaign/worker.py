"""The outbox worker's loop: milestone emails, update fan-out and delivery,
one turn at a time (`flask outbox work`)."""
from __future__ import annotations

import logging
import socket
import threading
import uuid

from flask import Flask

from .broadcasts import fan_out_batch, queue_milestones
from .extensions import db
from .outbox import BatchResult, deliver_batch

log = logging.getLogger(__name__)


def work_once(worker_id: str | None = None) -> BatchResult:
    """One turn of the worker: milestones, one fan-out batch, one delivery batch."""
    queue_milestones()
    fanned_out = fan_out_batch()
    result = deliver_batch(worker_id)
    result.fanned_out = fanned_out
    return result


def drain(worker_id: str | None = None) -> BatchResult:
    """Fan out and deliver until nothing is due (`flask outbox work --once`)."""
    total = BatchResult()
    while True:
        batch = work_once(worker_id)
        total.sent += batch.sent
        total.retried += batch.retried
        total.failed += batch.failed
        total.skipped += batch.skipped
        if batch.handled == 0 and not batch.fanned_out:
            return total


def run_worker(app: Flask, stop: threading.Event | None = None) -> None:
    """Deliver due messages until ``stop`` is set, polling when idle."""
    stop = stop or threading.Event()
    worker_id = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    with app.app_context():
        poll = app.config["OUTBOX_POLL_SECONDS"]
        while not stop.is_set():
            try:
                batch = work_once(worker_id)
            except Exception:  # keep the worker alive through a database blip
                log.exception("outbox: batch failed")
                db.session.rollback()
                batch = BatchResult()
            finally:
                db.session.remove()
            if batch.handled == 0 and not batch.fanned_out:
                stop.wait(poll)


