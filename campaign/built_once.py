"""Things an app builds once per key and keeps, the most recently used
first: a page's skeleton per campaign edition (campaign/campaign_page), a
link-preview card per edition and rounded count (campaign/public/previews).

Each is costly to build and wanted by many requests at the same moment
(a campaign shared widely, a new edition just saved), so one request
builds a new key's value while the others that want it wait for it,
holding no database connection, rather than each building it on a
connection of the pool. Keys carry what makes a value stale (an edition, a
settings version), so an edit makes a new key and old ones fall out of the
cache as it fills."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import LRUCache
from flask import current_app

T = TypeVar("T")


class _Kept:
    """The values of one app (one database)."""

    def __init__(self, maxsize: int):
        self.values: LRUCache = LRUCache(maxsize=maxsize)
        self.lock = threading.Lock()
        # Each key being built, and the lock its builder holds meanwhile.
        self.building: dict[tuple, threading.Lock] = {}


class BuiltOnce(Generic[T]):
    """Values kept under ``name`` in each app's extensions, at most
    ``maxsize`` of them."""

    def __init__(self, name: str, maxsize: int):
        self.name, self.maxsize = name, maxsize

    def get(self, key: tuple, build: Callable[[], T]) -> T:
        """The value for ``key``, built by ``build`` the first time; a
        request that wants it while it is built waits for that build."""
        kept = current_app.extensions.get(self.name)
        if kept is None:
            kept = current_app.extensions.setdefault(self.name, _Kept(self.maxsize))
        with kept.lock:
            value = kept.values.get(key)
            if value is not None:
                return value
            building = kept.building.setdefault(key, threading.Lock())
        with building:
            with kept.lock:
                value = kept.values.get(key)
            if value is None:
                value = build()
                with kept.lock:
                    kept.values[key] = value
                    kept.building.pop(key, None)
        return value
