"""A per-process cache that keeps a value for about a second.

On launch day thousands of visitors a second sign the same campaign; the
sign POST keeps what it needs of the campaign here, so that costs one
database read per second per process instead of one per signature (pages
and counts are kept whole, in campaign/http_cache). It is
only a cache: nothing in it is needed by any other process, and with
``seconds`` at 0 it keeps nothing."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class MicroCache:
    MAX_ENTRIES = 1000

    def __init__(self):
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, seconds: float, load: Callable[[], Any]) -> Any:
        """The value for ``key``, loaded again once ``seconds`` have passed.
        A ``load`` that raises (a 404, say) caches nothing."""
        if seconds <= 0:
            return load()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now + seconds, value)
        return value


micro_cache = MicroCache()
